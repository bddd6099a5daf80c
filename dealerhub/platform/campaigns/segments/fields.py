"""The segment builder's vocabulary: each field, the operators it takes, and the SQL
condition it compiles to. Vehicle conditions must all hold for the same vehicle; person
conditions for the customer. Nothing here runs a query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dealerhub.platform.campaigns.labels import _
from dealerhub.tenants.months import add_months


@dataclass(frozen=True)
class Condition:
    sql: str
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class Today:
    day: date
    zone: ZoneInfo

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)


@dataclass(frozen=True)
class Field:
    name: str
    level: str  # "vehicle" | "person"
    op: str  # the one operator this field takes
    label: str
    choices: tuple[str, ...] = ()
    compile: Callable[..., Condition] | None = None


def _in(column: str) -> Callable[..., Condition]:
    def build(values: list[str], today: Today) -> Condition:
        return Condition(f"{column} in ({', '.join('{}' for _ in values)})", tuple(values))
    return build


def _between(column: str) -> Callable[..., Condition]:
    def build(low: float | None, high: float | None, today: Today) -> Condition:
        parts, args = [], []
        if low is not None:
            parts.append(f"{column} >= {{}}")
            args.append(low)
        if high is not None:
            parts.append(f"{column} <= {{}}")
            args.append(high)
        return Condition(" and ".join(parts), tuple(args))
    return build


def _years_ago(column: str) -> Callable[..., Condition]:
    """An age in whole years from a date column: between low and high years old."""
    def build(low: float | None, high: float | None, today: Today) -> Condition:
        parts, args = [], []
        if low is not None:
            parts.append(f"{column} <= {{}}")
            args.append(add_months(today.day, -int(low * 12)))
        if high is not None:
            parts.append(f"{column} > {{}}")
            args.append(add_months(today.day, -int((high + 1) * 12)))
        return Condition(" and ".join(parts), tuple(args))
    return build


def _days_ahead(column: str) -> Callable[..., Condition]:
    """A date from `low` to `high` days after today (the warranty or insurance window)."""
    def build(low: float | None, high: float | None, today: Today) -> Condition:
        return _between(column)(
            None if low is None else today.day + timedelta(days=int(low)),
            None if high is None else today.day + timedelta(days=int(high)), today)
    return build


def _days_since(column: str) -> Callable[..., Condition]:
    """An instant `low` to `high` local days before today (the last visit)."""
    def build(low: float | None, high: float | None, today: Today) -> Condition:
        parts, args = [], []
        if low is not None:
            parts.append(f"{column} < {{}}")
            args.append(today.start_of(today.day - timedelta(days=int(low) - 1)))
        if high is not None:
            parts.append(f"{column} >= {{}}")
            args.append(today.start_of(today.day - timedelta(days=int(high))))
        return Condition(" and ".join(parts), tuple(args))
    return build


def _flag(sql: str) -> Callable[..., Condition]:
    def build(value: bool, today: Today) -> Condition:
        return Condition(sql if value else f"not ({sql})")
    return build


def _loyalty(values: list[str], today: Today) -> Condition:
    columns = {"after_sales": "c.after_sales_loyal", "sales": "c.sales_loyal"}
    return Condition("(" + " or ".join(f"{columns[v]} = {{}}" for v in values) + ")",
                     tuple(True for _ in values))


def _consent(values: list[str], today: Today) -> Condition:
    """Granted for each purpose and withdrawn on no channel for it."""
    parts = []
    for _value in values:
        parts.append(
            "exists (select 1 from customer_consent g where g.tenant_id = c.tenant_id and "
            "g.customer_id = c.id and g.purpose = {} and g.granted = {}) and not exists "
            "(select 1 from customer_consent w where w.tenant_id = c.tenant_id and "
            "w.customer_id = c.id and w.purpose = {} and w.granted = {})")
    args: list[object] = []
    for value in values:
        args += [value, True, value, False]
    return Condition(" and ".join(parts), tuple(args))


DECLINED = ("exists (select 1 from repair_order_line l where l.tenant_id = v.tenant_id and "
            "l.vehicle_id = v.id and l.status = 'declined' and l.followed_up_at is null)")

FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("model", "vehicle", "in", _("Model"), compile=_in("v.model_code")),
    Field("vehicle_age_years", "vehicle", "between", _("Vehicle age (years)"),
          compile=_years_ago("v.purchase_date")),
    Field("mileage_km", "vehicle", "between", _("Mileage (km)"),
          compile=_between("v.last_odometer_km")),
    Field("daily_km", "vehicle", "between", _("Daily km"), compile=_between("v.daily_km")),
    Field("warranty_ends_in_days", "vehicle", "between", _("Warranty ends in (days)"),
          compile=_days_ahead("v.warranty_end")),
    Field("insurance_expires_in_days", "vehicle", "between", _("Insurance expires in (days)"),
          compile=_days_ahead("v.insurance_expiry")),
    Field("declined_work", "vehicle", "is", _("Has declined work"), compile=_flag(DECLINED)),
    Field("last_visit_days_ago", "person", "between", _("Last visit (days ago)"),
          compile=_days_since("c.last_visit_at")),
    Field("gender", "person", "in", _("Gender"), ("male", "female"), _in("c.gender")),
    Field("age_years", "person", "between", _("Age (years)"), compile=_years_ago("c.birth_date")),
    Field("city", "person", "in", _("City"), compile=_in("c.city")),
    Field("district", "person", "in", _("District"), compile=_in("c.district")),
    Field("customer_type", "person", "in", _("Customer type"),
          ("value", "convenience", "relationship"), _in("c.customer_type")),
    Field("category", "person", "in", _("Category"),
          ("potential", "won", "lost", "complaint"), _in("c.category")),
    Field("loyalty", "person", "in", _("Loyalty"), ("after_sales", "sales"), _loyalty),
    Field("spend_12m", "person", "between", _("Spend in 12 months (CNY)"),
          compile=_between("c.spend_12m")),
    Field("preferred_channel", "person", "in", _("Preferred channel"),
          ("sms", "email", "voice", "wechat", "whatsapp"), _in("c.preferred_channel")),
    Field("consent", "person", "in", _("Consent"), ("marketing", "service"), _consent),
)}
