"""Customers: the file, search, consent, the dedicated team and the contact profile other
components use to reach a customer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from dealerhub.platform import db
from dealerhub.platform.tenancy import fetch_setting_tenant, statement_can_set_tenant, tenant_scope
from dealerhub.tenants.customers.facts import TEAM_SLOTS, assign_teams, refresh_customer_facts
from dealerhub.tenants.customers.schemas import (
    CATEGORIES,
    CUSTOMER_TYPES,
    GENDERS,
    ContactProfile,
    CustomerCreate,
    CustomerUpdate,
    TeamUpdate,
)
from dealerhub.tenants.customers.tables import Customer, CustomerConsent
from dealerhub.tenants.fields import (
    CHANNELS,
    LOCALES,
    PURPOSES,
    Cleaner,
    FieldError,
    InvalidInput,
    normalise_phone,
    normalise_plate,
)
from dealerhub.tenants.staff.tables import Staff

SORTS = {"name": "name", "last_visit": "last_visit_at", "created": "created_at",
         "spend": "spend_12m"}
SUMMARY_COLUMNS = ("c.id, c.name, c.phone_e164, c.category, c.after_sales_loyal, "
                   "c.last_visit_at, c.erased_at, c.created_at, c.spend_12m")
SEARCH_LIMIT = 200


def reversed_phone(phone_e164: str | None) -> str | None:
    return phone_e164[::-1] if phone_e164 else None


def _both_or_neither(clean: Cleaner, values: dict[str, Any], first: str, second: str) -> None:
    """A point needs both coordinates: one alone (or one left out of a change) is refused."""
    if any(error.field in (first, second) for error in clean.errors):
        return
    given = (clean.present(first), clean.present(second))
    if (values[first] is None) != (values[second] is None) or given[0] != given[1]:
        missing = first if values[first] is None else second
        clean.fail(missing, "give both latitude and longitude, or neither")


def clean_customer(raw: Mapping[str, Any], *, partial: bool = False,
                   today: date | None = None) -> dict[str, Any]:
    """Validated column values from raw input (form, API or DMS row); `partial` keeps only
    the fields present in `raw`. Raises InvalidInput naming every bad field."""
    clean = Cleaner(raw, today)
    values: dict[str, Any] = {
        "name": clean.text("name", required=not partial or clean.present("name")),
        "external_id": clean.text("external_id", max_length=64),
        "phone_e164": clean.phone("phone"),
        "email": clean.email("email"),
        "wechat_id": clean.text("wechat_id", max_length=64),
        "gender": clean.choice("gender", GENDERS),
        "birth_date": clean.date("birth_date", not_future=True),
        "city": clean.text("city", max_length=64),
        "district": clean.text("district", max_length=64),
        "occupation": clean.text("occupation", max_length=64),
        "preferred_channel": clean.choice("preferred_channel", CHANNELS),
        "customer_type": clean.choice("customer_type", CUSTOMER_TYPES),
        "category": clean.choice("category", CATEGORIES, default="potential"),
        "locale": clean.choice("locale", LOCALES, default="zh-CN"),
        "home_latitude": clean.coordinate("home_latitude", 90),
        "home_longitude": clean.coordinate("home_longitude", 180),
    }
    _both_or_neither(clean, values, "home_latitude", "home_longitude")
    referrer = raw.get("referred_by_customer_id")
    if referrer not in (None, ""):
        try:
            values["referred_by_customer_id"] = uuid.UUID(str(referrer))
        except ValueError:
            clean.fail("referred_by_customer_id", "is not a customer id")
    else:
        values["referred_by_customer_id"] = None
    clean.done()
    values["phone_reversed"] = reversed_phone(values["phone_e164"])
    if partial:
        given = {"phone_e164" if k == "phone" else k for k in raw}
        if "phone_e164" in given:
            given.add("phone_reversed")
        return {k: v for k, v in values.items() if k in given}
    return values


async def _check_references(values: dict[str, Any], customer_id: uuid.UUID | None) -> None:
    errors = []
    if values.get("external_id") is not None:
        query = Customer.count_in_tenant().where(Customer.external_id == values["external_id"])
        if customer_id is not None:
            query = query.where(Customer.id != customer_id)
        if await query:
            errors.append(FieldError("external_id", "is already used by another customer"))
    referrer = values.get("referred_by_customer_id")
    if referrer is not None and (referrer == customer_id
                                 or not await Customer.count_in_tenant().where(
                                     Customer.id == referrer)):
        errors.append(FieldError("referred_by_customer_id", "no such customer"))
    if errors:
        raise InvalidInput(errors)


async def after_customer_write(customer_ids: list[uuid.UUID]) -> None:
    """Keep derived facts current: the customers, and whoever referred them."""
    referrers = [row["referred_by_customer_id"] for row in await Customer.select_in_tenant(
        Customer.referred_by_customer_id).where(Customer.id.is_in(customer_ids),
                                                 Customer.referred_by_customer_id.is_not_null())]
    await refresh_customer_facts([*customer_ids, *referrers])
    await assign_teams(customer_ids)


async def create_customer(tenant_id: uuid.UUID,
                          data: CustomerCreate | Mapping[str, Any]) -> Customer:
    raw = data if isinstance(data, Mapping) else msgspec.structs.asdict(data)
    values = clean_customer(raw)
    async with tenant_scope(tenant_id):
        await _check_references(values, None)
        (row,) = await Customer.insert_in_tenant(Customer(**values))
        await after_customer_write([row.id])
        return await Customer.get_in_tenant(row.id)  # type: ignore[return-value]


async def update_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                          data: CustomerUpdate | Mapping[str, Any]) -> Customer | None:
    raw = data if isinstance(data, Mapping) else {
        k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    values = clean_customer(raw, partial=True)
    async with tenant_scope(tenant_id):
        current = await Customer.get_in_tenant(customer_id)
        if current is None or current.erased_at is not None:
            return None
        await _check_references(values, customer_id)
        old_referrer = current.referred_by_customer_id
        values["updated_at"] = datetime.now(UTC)
        await Customer.update_in_tenant({getattr(Customer, k): v for k, v in values.items()}) \
            .where(Customer.id == customer_id)
        await after_customer_write([customer_id, *([old_referrer] if old_referrer else [])])
        return await Customer.get_in_tenant(customer_id)


async def get_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None:
    async with tenant_scope(tenant_id, write=False):
        return await Customer.get_in_tenant(customer_id)


@dataclass(frozen=True)
class SearchResult:
    customers: list[dict[str, Any]]
    plates: dict[uuid.UUID, list[str]]
    total: int


def search_kind(q: str) -> str:
    """What a search box entry is: a phone ending, a plate, a VIN prefix or a name."""
    compact = q.replace(" ", "").replace("-", "").replace("+", "")
    if compact.isdigit() and len(compact) >= 3:
        return "phone"
    if len(compact) >= 2 and not compact[0].isascii() and compact[1].isascii() \
            and compact[1].isalpha():
        return "plate"
    if compact.isascii() and compact.isalnum() and len(compact) >= 4 \
            and any(ch.isdigit() for ch in compact):
        return "vin"
    return "name"


# The search's values, in the order `customer_search_page` (tenants migration 18_45) takes them.
SEARCH_VALUES = ("tenant", "low", "high", "limit", "offset")
_MARKER = re.compile(r"(?<!:):(" + "|".join(SEARCH_VALUES) + r")\b")
SEARCH_PAGE_SQL = "select * from customer_search_page({}, {}, {}, {}, {}, {})"


def starts_with(column: str) -> str:
    """SQL for `column` starts with the prefix `:low` (below `:high`), as an index range.
    LIKE cannot use an index under row-level security on PostgreSQL (it is not leakproof);
    the pattern comparison operators are, and they use the `varchar_pattern_ops` indexes of
    the migration."""
    low, high = ("~>=~", "~<~") if db.is_postgres() else (">=", "<")
    return f"{column} {low} :low and {column} {high} :high"


def _search_filter(q: str) -> tuple[str, str]:
    """An indexed condition on customer `c` for each kind of entry, and its prefix: name and
    phone on the customer, plate and VIN on the vehicle (the first SEARCH_LIMIT owners,
    each step on its own index)."""
    kind = search_kind(q)
    if kind == "phone":
        return starts_with("c.phone_reversed"), "".join(ch for ch in q if ch.isdigit())[::-1]
    if kind == "name":
        return starts_with("c.name"), q
    column = "o.plate" if kind == "plate" else "o.vin"
    return (f"c.id in (select o.customer_id from vehicle o where o.tenant_id = :tenant "
            f"and {starts_with(column)} limit {SEARCH_LIMIT})", normalise_plate(q))


def _search_order(sort: str, q: str, alias: str) -> str:
    """The sort column of `alias`. With a search condition on PostgreSQL, names sort in
    code-point order (`COLLATE "C"`, what the C.UTF-8 databases use anyway), which no index
    provides: the planner then sorts the matches instead of walking the whole name index in
    order, filtering as it goes (a rare prefix read all 200,000 names)."""
    column = f"{alias}.{SORTS.get(sort, 'name')}"
    if q and column.endswith(".name") and db.is_postgres():
        return f'{column} COLLATE "C"'
    return column


def _bind(sql: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """`:name` markers as `{}` placeholders, and their values in that order."""
    return _MARKER.sub("{}", sql), [values[name] for name in _MARKER.findall(sql)]


async def search_customers(tenant_id: uuid.UUID, q: str = "", *, page: int = 1,
                           per_page: int = 25, sort: str = "name",
                           descending: bool = False) -> SearchResult:
    """One page of the dealer's customers matching `q` (name prefix, phone suffix, plate or
    VIN prefix), with their plates. The page, the number of matches (`count(*) over ()`:
    the matches are sorted anyway; without `q`, a count of the dealer's customers) and the
    page's plates are one statement, on PostgreSQL one round trip (`customer_search_page`);
    only a page past the last counts again."""
    q = q.strip()
    page, per_page = max(page, 1), min(max(per_page, 1), 100)
    condition, prefix = _search_filter(q) if q else ("true", None)
    direction = "desc" if descending else "asc"
    total = "count(*) over ()" if q else \
        "(select count(*) from customer a where a.tenant_id = :tenant)"
    sql = (f"select p.*, v.plate from (select {SUMMARY_COLUMNS}, {total} as total "
           f"from customer c where c.tenant_id = :tenant and {condition} "
           f"order by {_search_order(sort, q, 'c')} {direction}, c.id "
           "limit :limit offset :offset) p "
           "left join vehicle v on v.tenant_id = :tenant and v.customer_id = p.id "
           f"order by {_search_order(sort, q, 'p')} {direction}, p.id, v.plate")
    values = {"tenant": tenant_id, "low": prefix, "limit": per_page,
              "offset": (page - 1) * per_page,
              "high": prefix and prefix[:-1] + chr(ord(prefix[-1]) + 1)}
    if statement_can_set_tenant():
        numbered = _MARKER.sub(lambda m: f"${SEARCH_VALUES.index(m[1]) + 1}", sql)
        rows = await fetch_setting_tenant(tenant_id, SEARCH_PAGE_SQL, tenant_id, numbered,
                                          *(values[name] for name in SEARCH_VALUES[1:]))
    else:
        async with tenant_scope(tenant_id, write=False):
            bound, args = _bind(sql, values)
            rows = await db.fetch(bound, *args)
    counted = rows[0]["total"] if rows else 0
    if not rows and page > 1:
        async with tenant_scope(tenant_id, write=False):
            bound, args = _bind("select count(*) as n from customer c "
                                f"where c.tenant_id = :tenant and {condition}", values)
            (row,) = await db.fetch(bound, *args)
            counted = row["n"]
    customers: dict[uuid.UUID, dict[str, Any]] = {}
    plates: dict[uuid.UUID, list[str]] = {}
    for row in rows:
        plate = row.pop("plate")
        del row["total"]
        customers.setdefault(row["id"], row)
        if plate:
            plates.setdefault(row["id"], []).append(plate)
    return SearchResult(list(customers.values()), plates, counted)


async def set_team(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                   data: TeamUpdate) -> Customer | None:
    """The dealer admin's choice of team; it is kept from then on (no automatic reassignment)."""
    chosen = {column: getattr(data, column) for column in TEAM_SLOTS}
    async with tenant_scope(tenant_id):
        current = await Customer.get_in_tenant(customer_id)
        if current is None or current.erased_at is not None:
            return None
        errors = []
        for column, kind in TEAM_SLOTS.items():
            staff_id = chosen[column]
            if staff_id is None:
                continue
            staff = await Staff.get_in_tenant(staff_id)
            if staff is None or staff.kind != kind or not staff.active:
                errors.append(FieldError(column, f"is not an active {kind.replace('_', ' ')}"))
        if errors:
            raise InvalidInput(errors)
        await Customer.update_in_tenant({
            **{getattr(Customer, c): v for c, v in chosen.items()},
            Customer.team_set_by_admin: True,
        }).where(Customer.id == customer_id)
        return await Customer.get_in_tenant(customer_id)


# --- contact profile and consent (the contract other components call) -------------------


async def contact_profile(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> ContactProfile | None:
    return (await contact_profiles(tenant_id, [customer_id])).get(customer_id)


async def contact_profiles(tenant_id: uuid.UUID,
                           customer_ids: list[uuid.UUID]) -> dict[uuid.UUID, ContactProfile]:
    """Many customers' contact profiles in two queries (a campaign's audience); unknown ids
    are left out."""
    if not customer_ids:
        return {}
    async with tenant_scope(tenant_id, write=False):
        rows = await Customer.objects_in_tenant().where(Customer.id.is_in(customer_ids))
        consents: dict[uuid.UUID, dict[str, dict[str, bool]]] = {}
        for consent in await CustomerConsent.select_in_tenant(
            CustomerConsent.customer_id, CustomerConsent.purpose, CustomerConsent.channel,
            CustomerConsent.granted,
        ).where(CustomerConsent.customer_id.is_in(customer_ids)):
            consents.setdefault(consent["customer_id"], {}).setdefault(
                consent["purpose"], {})[consent["channel"]] = consent["granted"]
    return {row.id: ContactProfile(
        customer_id=row.id, name=row.name, phone_e164=row.phone_e164, email=row.email,
        wechat_id=row.wechat_id, preferred_channel=row.preferred_channel,
        customer_type=row.customer_type, locale=row.locale or "zh-CN",
        consents=consents.get(row.id, {}), erased=row.erased_at is not None,
    ) for row in rows}


def _check_consent_args(purpose: str, channel: str | None) -> None:
    errors = []
    if purpose not in PURPOSES:
        errors.append(FieldError("purpose", f"must be one of {', '.join(PURPOSES)}"))
    if channel is not None and channel not in CHANNELS:
        errors.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)}"))
    if errors:
        raise InvalidInput(errors)


async def _set_consents(customer_id: uuid.UUID, purpose: str, channels: tuple[str, ...],
                        granted: bool, source: str) -> None:
    now = datetime.now(UTC)
    existing = {row["channel"]: row["id"] for row in await CustomerConsent.select_in_tenant(
        CustomerConsent.id, CustomerConsent.channel,
    ).where(CustomerConsent.customer_id == customer_id, CustomerConsent.purpose == purpose)}
    changed = [existing[c] for c in channels if c in existing]
    if changed:
        await CustomerConsent.update_in_tenant({
            CustomerConsent.granted: granted, CustomerConsent.changed_at: now,
            CustomerConsent.source: source[:64],
        }).where(CustomerConsent.id.is_in(changed))
    await CustomerConsent.insert_in_tenant(*[
        CustomerConsent(customer_id=customer_id, purpose=purpose, channel=channel,
                        granted=granted, changed_at=now, source=source[:64])
        for channel in channels if channel not in existing])


async def record_consent(tenant_id: uuid.UUID, customer_id: uuid.UUID, purpose: str,
                         channel: str, granted: bool, source: str) -> None:
    """Grant or withdraw one purpose on one channel, remembering when and how."""
    _check_consent_args(purpose, channel)
    async with tenant_scope(tenant_id):
        if not await Customer.count_in_tenant().where(Customer.id == customer_id,
                                                      Customer.erased_at.is_null()):
            raise InvalidInput([FieldError("customer_id", "no such customer")])
        await _set_consents(customer_id, purpose, (channel,), granted, source)


async def withdraw_consent(tenant_id: uuid.UUID, customer_id: uuid.UUID, purpose: str,
                           source: str) -> None:
    """An opt-out on one channel withdraws the purpose on every channel."""
    _check_consent_args(purpose, None)
    async with tenant_scope(tenant_id):
        if not await Customer.count_in_tenant().where(Customer.id == customer_id):
            raise InvalidInput([FieldError("customer_id", "no such customer")])
        await _set_consents(customer_id, purpose, CHANNELS, False, source)


async def list_consents(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> list[CustomerConsent]:
    async with tenant_scope(tenant_id, write=False):
        return await CustomerConsent.objects_in_tenant().where(
            CustomerConsent.customer_id == customer_id,
        ).order_by(CustomerConsent.purpose).order_by(CustomerConsent.channel)


def shares_phone_sql(tenant: str, customer: str) -> str:
    """`shares_phone` as an SQL condition over two SQL expressions (a dealer id, a customer
    id), for a statement of the caller's own: the survey's integrity check runs on every
    answer and reads it with the invitation, one round trip fewer."""
    return ("(select count(*) from customer o join customer c on c.tenant_id = o.tenant_id "
            f"and c.phone_e164 = o.phone_e164 where o.tenant_id = {tenant} and o.id = {customer} "
            "and o.phone_e164 <> '' and c.erased_at is null) > 1")


async def shares_phone(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    """The customer's phone number is also on another customer not erased."""
    async with tenant_scope(tenant_id, write=False) as tid:
        rows = await db.fetch(f"select {shares_phone_sql('{}', '{}')} as shared", tid,
                              customer_id)
    return bool(rows[0]["shared"])


async def find_customer_ids_by_phone(tenant_id: uuid.UUID, phone_e164: str) -> list[uuid.UUID]:
    """Customers with this number (an inbound SMS or call); an unparseable number finds none."""
    try:
        phone = normalise_phone(phone_e164)
    except ValueError:
        return []
    async with tenant_scope(tenant_id, write=False):
        rows = await Customer.select_in_tenant(Customer.id).where(
            Customer.phone_e164 == phone, Customer.erased_at.is_null())
    return [row["id"] for row in rows]
