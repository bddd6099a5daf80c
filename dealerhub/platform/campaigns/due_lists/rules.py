"""The standard due-list rules (DOMAIN.md "Reminders and retention"), each one SELECT.

Every rule yields rows of (reason, occasion, customer_id, vehicle_id, repair_order_id,
target_on) for one dealer on its local day; `occasion` makes a rule fire once per
occurrence, so a day missed by the scheduler is caught up the next day without
duplicates. All dates are computed in Python for the dealer's local day and passed as
parameters; only the fragments in `campaigns.sql` differ between the engines.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dealerhub.platform.campaigns.sql import date_param, month_day
from dealerhub.tenants.months import add_months

FIRST_MAINTENANCE_DAYS = 90  # "3 months after sale"
FIRST_MAINTENANCE_CATCH_UP_DAYS = 30
NEXT_MAINTENANCE_LEAD_DAYS = 14
WARRANTY_FIRST_LEAD_DAYS = 30  # "1 month before"
WARRANTY_SECOND_LEAD_DAYS = 14
INSURANCE_LEAD_DAYS = 30
LAPSED_MONTHS = 6
VEHICLE_BIRTHDAY_LEAD_DAYS = 14
CUSTOMER_BIRTHDAY_LEAD_DAYS = 7
DECLINED_WORK_RECENT_DAYS = 90
NO_CONTACT_MONTHS = 6
FREE_CHECK_OPERATION = "FREE_CHECK"

REASONS = (
    "first_maintenance", "next_maintenance", "warranty_1m", "warranty_2w",
    "insurance_renewal", "lapsed", "vehicle_birthday", "customer_birthday",
    "free_check", "declined_work", "no_contact",
)


@dataclass(frozen=True)
class DueDay:
    """One dealer's local day and the instants derived from it."""

    tenant_id: uuid.UUID
    today: date
    zone: ZoneInfo
    declined_work_days: int

    def start_of(self, day: date) -> datetime:
        """The UTC instant the dealer's local `day` begins."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def half_year(self) -> str:
        return f"{self.today.year}H{1 if self.today.month <= 6 else 2}"


@dataclass(frozen=True)
class RuleSql:
    sql: str
    args: list[object]


def _window(first: date, days: int) -> list[tuple[str, date]]:
    """('MM-DD', date) for each day of [first, first + days]; 29 February falls on the 28th
    in a common year."""
    pairs: list[tuple[str, date]] = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        pairs.append((f"{day:%m-%d}", day))
        if day.month == 2 and day.day == 28 and (day + timedelta(days=1)).month == 3:
            pairs.append(("02-29", day))
    return pairs


def _anniversary(column: str, first: date, days: int) -> tuple[str, list[object], str,
                                                              list[object]]:
    """`column`'s month-day falls in the window: (condition, its args, the anniversary's
    date as an expression, its args)."""
    pairs = _window(first, days)
    condition = f"{month_day(column)} in ({', '.join('{}' for _ in pairs)})"
    target = "(case " + month_day(column) + " " + " ".join(
        f"when {{}} then {date_param()}" for _ in pairs) + " end)"
    return condition, [md for md, _ in pairs], target, [v for pair in pairs for v in pair]


VEHICLES = ("from vehicle v join customer c on c.tenant_id = v.tenant_id "
            "and c.id = v.customer_id where v.tenant_id = {} and c.erased_at is null")
NULL_UUID = "cast(null as uuid)"
NULL_DATE = "cast(null as date)"


def _no_repair_order_since(condition: str = "") -> str:
    return ("not exists (select 1 from repair_order r where r.tenant_id = v.tenant_id "
            f"and r.vehicle_id = v.id{condition})")


@dataclass(frozen=True)
class _Part:
    sql: str
    args: tuple[object, ...] = ()


def _vehicle_rule(tenant_id: uuid.UUID, reason: str, occasion: _Part, target: _Part,
                  where: _Part) -> RuleSql:
    sql = (f"select '{reason}', 'v:' || v.id || ':' || {occasion.sql}, v.customer_id, v.id, "
           f"{NULL_UUID}, {target.sql} {VEHICLES} and {where.sql}")
    return RuleSql(sql, [*occasion.args, *target.args, tenant_id, *where.args])


def rules(day: DueDay) -> dict[str, RuleSql]:
    """Every rule's SELECT for one dealer's day, by reason."""
    t, d = day.tenant_id, day.today
    half = _Part("{}", (day.half_year,))
    v_cond, v_cond_args, v_target, v_target_args = _anniversary(
        "v.purchase_date", d, VEHICLE_BIRTHDAY_LEAD_DAYS)
    c_cond, c_cond_args, c_target, c_target_args = _anniversary(
        "c.birth_date", d, CUSTOMER_BIRTHDAY_LEAD_DAYS)
    lapsed_since = day.start_of(add_months(d, -LAPSED_MONTHS) + timedelta(days=1))
    no_contact_since = day.start_of(add_months(d, -NO_CONTACT_MONTHS) + timedelta(days=1))
    declined_until = day.start_of(d - timedelta(days=day.declined_work_days - 1))
    declined_from = day.start_of(d - timedelta(days=day.declined_work_days
                                               + DECLINED_WORK_RECENT_DAYS))

    def dated(column: str, where: str, *args: object) -> tuple[_Part, _Part, _Part]:
        return _Part(column), _Part(column), _Part(where, args)

    return {
        "first_maintenance": _vehicle_rule(t, "first_maintenance", *dated(
            "v.purchase_date",
            "v.purchase_date <= {} and v.purchase_date > {} and "
            + _no_repair_order_since(" and r.ro_type = 'maintenance'"),
            d - timedelta(days=FIRST_MAINTENANCE_DAYS),
            d - timedelta(days=FIRST_MAINTENANCE_DAYS + FIRST_MAINTENANCE_CATCH_UP_DAYS))),
        "next_maintenance": _vehicle_rule(t, "next_maintenance", *dated(
            "v.next_maintenance_date",
            "v.next_maintenance_date >= {} and v.next_maintenance_date <= {}",
            d, d + timedelta(days=NEXT_MAINTENANCE_LEAD_DAYS))),
        "warranty_1m": _vehicle_rule(t, "warranty_1m", *dated(
            "v.warranty_end", "v.warranty_end > {} and v.warranty_end <= {}",
            d + timedelta(days=WARRANTY_SECOND_LEAD_DAYS),
            d + timedelta(days=WARRANTY_FIRST_LEAD_DAYS))),
        "warranty_2w": _vehicle_rule(t, "warranty_2w", *dated(
            "v.warranty_end",
            "v.warranty_end >= {} and v.warranty_end <= {} and not exists (select 1 from "
            "due_list_entry e where e.tenant_id = v.tenant_id and e.vehicle_id = v.id and "
            "e.reason = 'warranty_1m' and e.target_on = v.warranty_end "
            "and e.answered_at is not null)",
            d, d + timedelta(days=WARRANTY_SECOND_LEAD_DAYS))),
        "insurance_renewal": _vehicle_rule(t, "insurance_renewal", *dated(
            "v.insurance_expiry", "v.insurance_expiry >= {} and v.insurance_expiry <= {}",
            d, d + timedelta(days=INSURANCE_LEAD_DAYS))),
        "lapsed": _vehicle_rule(
            t, "lapsed", half, _Part("v.warranty_end"),
            _Part("v.warranty_end < {} and " + _no_repair_order_since(" and r.opened_at >= {}"),
                  (d, lapsed_since))),
        "vehicle_birthday": _vehicle_rule(
            t, "vehicle_birthday", _Part(v_target, tuple(v_target_args)),
            _Part(v_target, tuple(v_target_args)),
            _Part(f"v.purchase_date <= {{}} and {v_cond}", (add_months(d, -12), *v_cond_args))),
        "free_check": _vehicle_rule(
            t, "free_check", _Part("{}", (str(d.year),)), _Part("v.warranty_end"),
            _Part("v.warranty_end < {} and not exists (select 1 from repair_order_line l "
                  "join repair_order r on r.tenant_id = l.tenant_id and r.id = l.repair_order_id "
                  "where l.tenant_id = v.tenant_id and l.vehicle_id = v.id and "
                  "l.operation_code = {} and r.opened_at >= {})",
                  (d, FREE_CHECK_OPERATION, day.start_of(date(d.year, 1, 1))))),
        "customer_birthday": RuleSql(
            f"select 'customer_birthday', 'c:' || c.id || ':' || {c_target}, c.id, "
            f"{NULL_UUID}, {NULL_UUID}, {c_target} from customer c "
            f"where c.tenant_id = {{}} and c.erased_at is null and {c_cond}",
            [*c_target_args, *c_target_args, t, *c_cond_args]),
        "declined_work": RuleSql(
            "select 'declined_work', 'ro:' || r.id, r.customer_id, r.vehicle_id, r.id, "
            f"{NULL_DATE} from repair_order r join customer c on c.tenant_id = r.tenant_id "
            "and c.id = r.customer_id where r.tenant_id = {} and c.erased_at is null "
            "and r.status = 'closed' and r.closed_at < {} and r.closed_at >= {} and exists "
            "(select 1 from repair_order_line l where l.tenant_id = r.tenant_id and "
            "l.repair_order_id = r.id and l.status = 'declined' and l.followed_up_at is null)",
            [t, declined_until, declined_from]),
        "no_contact": RuleSql(
            "select 'no_contact', 'c:' || c.id || ':' || {}, c.id, "
            f"{NULL_UUID}, {NULL_UUID}, {NULL_DATE} from customer c "
            "where c.tenant_id = {} and c.erased_at is null "
            "and coalesce(c.last_visit_at, c.created_at) < {} and not exists (select 1 from "
            "due_list_entry e where e.tenant_id = c.tenant_id and e.customer_id = c.id and "
            "e.contacted_at >= {}) and not exists (select 1 from campaign_recipient cr where "
            "cr.tenant_id = c.tenant_id and cr.customer_id = c.id and cr.contacted_at >= {})",
            [day.half_year, t, no_contact_since, no_contact_since, no_contact_since]),
    }
