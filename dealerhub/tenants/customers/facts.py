"""Derived customer facts (DOMAIN.md "Customers"), recomputed set-based for a batch of
customers on every write and import, and nightly because "12 months back" moves.

- after-sales loyal: 2 or more visits, or 3,000 CNY or more spent, in the last 12 months
  (a visit is a closed repair order; rework does not count as a visit, the dealer caused it)
- sales loyal: bought here (category "won") and referred at least 1 customer, or did not
  buy here and referred 3 or more
- quality score 0-100 (002): real car user (25: a vehicle with measured daily mileage), suitable
  car age (25: a vehicle at most 8 years old), lives near the dealer (25: same city), and comes
  back (25: after-sales loyal)
- dedicated team: advisor, sales consultant and insurance advisor, assigned to the member
  of each kind with the fewest customers; a team set by the dealer admin is kept
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from piccolo.query.functions.aggregate import Count, Max, Sum
from piccolo.querystring import QueryString

from dealerhub.platform import db
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import require_tenant
from dealerhub.tenants.bulk import CHUNK, bulk_update, one_of
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.months import add_months
from dealerhub.tenants.repair_orders.tables import RepairOrder
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.tables import Vehicle

LOYALTY_WINDOW_MONTHS = 12
LOYAL_VISITS = 2
LOYAL_SPEND = Decimal("3000")
CENT = Decimal("0.01")
NO_SPEND = Decimal("0.00")
SALES_LOYAL_REFERRALS_BOUGHT = 1
SALES_LOYAL_REFERRALS_NOT_BOUGHT = 3
QUALITY_MAX_CAR_AGE_YEARS = 8
TEAM_SLOTS = {"advisor_staff_id": "service_advisor", "sales_staff_id": "sales_consultant",
              "insurance_staff_id": "insurance_advisor"}
TEAM_SLOT_OF = {kind: column for column, kind in TEAM_SLOTS.items()}
FACT_TYPES = {"id": "uuid", "visits_12m": "int", "spend_12m": "numeric",
              "last_visit_at": "timestamptz", "referral_count": "int",
              "after_sales_loyal": "boolean", "sales_loyal": "boolean", "quality_score": "int"}


def is_after_sales_loyal(visits_12m: int, spend_12m: Decimal) -> bool:
    return visits_12m >= LOYAL_VISITS or spend_12m >= LOYAL_SPEND


def is_sales_loyal(bought_here: bool, referrals: int) -> bool:
    needed = SALES_LOYAL_REFERRALS_BOUGHT if bought_here else SALES_LOYAL_REFERRALS_NOT_BOUGHT
    return referrals >= needed


def loyalty_window_start(as_of: datetime) -> datetime:
    """Visits closed at or after this instant count as "in the last 12 months"."""
    return add_months(as_of, -LOYALTY_WINDOW_MONTHS)


def quality_score(*, real_user: bool, suitable_age: bool, near_dealer: bool,
                  loyal: bool) -> int:
    return 25 * sum((real_user, suitable_age, near_dealer, loyal))


async def refresh_customer_facts(customer_ids: Sequence[uuid.UUID],
                                 as_of: datetime | None = None) -> None:
    """Recompute the derived facts of these customers (inside their tenant's scope)."""
    as_of = as_of or datetime.now(UTC)
    tenant_id = require_tenant()
    dealer = await Dealer.select(Dealer.city).where(Dealer.id == tenant_id).first()
    dealer_city = (dealer or {}).get("city")
    for part in db.chunks(list(dict.fromkeys(customer_ids)), 5000):
        await _refresh_part(list(part), as_of, dealer_city)


async def _refresh_part(ids: list[uuid.UUID], as_of: datetime, dealer_city: str | None) -> None:
    stored = [getattr(Customer, name) for name in FACT_TYPES]  # to write only what changed
    held = Customer.select_in_tenant(*stored, Customer.category, Customer.city).where(
        one_of(Customer.id, ids))
    if db.is_postgres():
        # The customers are held (in id order) before anything else is read: another
        # transaction that writes their vehicles or visits and refreshes them too (an import
        # writes two batches at once) has either committed before these reads, or waits
        # and reads after this one commits. Neither overwrites facts with stale ones.
        held = held.order_by(Customer.id).lock_rows("NO KEY UPDATE")
    customers = await held
    closed = RepairOrder.select_in_tenant(
        RepairOrder.customer_id, Count(alias="visits"),
        Sum(RepairOrder.total_amount, alias="spend"),
    ).where(one_of(RepairOrder.customer_id, ids), RepairOrder.status == "closed",
            RepairOrder.ro_type != "rework",
            RepairOrder.closed_at >= loyalty_window_start(as_of),
            RepairOrder.closed_at <= as_of).group_by(RepairOrder.customer_id)
    window = {row["customer_id"]: row for row in await closed}
    last_visits = {row["customer_id"]: row["last"] for row in await RepairOrder.select_in_tenant(
        RepairOrder.customer_id, Max(RepairOrder.closed_at, alias="last"),
    ).where(one_of(RepairOrder.customer_id, ids), RepairOrder.status == "closed")
        .group_by(RepairOrder.customer_id)}
    referrer = Customer.referred_by_customer_id
    referrals = {row["referred_by_customer_id"]: row["n"]
                 for row in await Customer.select_in_tenant(referrer, Count(alias="n"))
                 .where(one_of(referrer, ids)).group_by(referrer)}
    vehicles = await _newest_vehicles(ids)
    today = as_of.date()
    updates = []
    for customer in customers:
        cid = customer["id"]
        visited = window.get(cid)
        visits = int(visited["visits"] or 0) if visited else 0
        spend = Decimal(str(visited["spend"] or 0)).quantize(CENT) if visited else NO_SPEND
        loyal = is_after_sales_loyal(visits, spend)
        owned = vehicles.get(cid, ())
        facts = {
            "id": cid, "visits_12m": visits, "spend_12m": spend,
            "last_visit_at": last_visits.get(cid), "referral_count": referrals.get(cid, 0),
            "after_sales_loyal": loyal,
            "sales_loyal": is_sales_loyal(customer["category"] == "won", referrals.get(cid, 0)),
            "quality_score": quality_score(
                real_user=any((v["daily_km"] or 0) > 0 for v in owned),
                suitable_age=any(_car_age_years(v, today) <= QUALITY_MAX_CAR_AGE_YEARS
                                 for v in owned),
                near_dealer=bool(dealer_city and customer["city"]
                                 and dealer_city in customer["city"]),
                loyal=loyal,
            ),
        }
        if any(customer[name] != value for name, value in facts.items()):
            updates.append(facts)
    await bulk_update("customer", updates, FACT_TYPES)


# the youngest model year among the vehicles without a purchase date (those are dated by it)
_UNDATED_YEAR = QueryString("case when purchase_date is null then model_year end")


async def _newest_vehicles(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    """What the quality score reads of each customer's vehicles, summed up by the database
    in one row a customer: the highest daily km and the youngest car, dated by purchase
    where there is one, else by model year (as two vehicles: one dated each way)."""
    vehicles: dict[uuid.UUID, list[dict]] = {}
    for row in await Vehicle.select_in_tenant(
        Vehicle.customer_id, Max(Vehicle.daily_km, alias="daily_km"),
        Max(Vehicle.purchase_date, alias="purchase_date"),
        Max(_UNDATED_YEAR, alias="undated_year"),
    ).where(one_of(Vehicle.customer_id, ids)).group_by(Vehicle.customer_id):
        youngest = row["purchase_date"]
        if isinstance(youngest, str):  # SQLite gives the text it stores
            youngest = date.fromisoformat(youngest)
        vehicles[row["customer_id"]] = [
            {"daily_km": row["daily_km"], "purchase_date": youngest, "model_year": None},
            {"daily_km": None, "purchase_date": None, "model_year": row["undated_year"]}]
    return vehicles


def _car_age_years(vehicle: dict, today: date) -> float:
    if vehicle["purchase_date"]:
        return (today - vehicle["purchase_date"]).days / 365.25
    if vehicle["model_year"]:
        return float(today.year - vehicle["model_year"])
    return float("inf")


async def staff_loads(kind: str) -> list[tuple[int, str, uuid.UUID]]:
    """(customers assigned, name, id) of each active staff member of a kind."""
    column = TEAM_SLOT_OF[kind]
    members = await Staff.select_in_tenant(Staff.id, Staff.name).where(
        Staff.kind == kind, Staff.active == True)  # noqa: E712 - Piccolo expression
    if not members:
        return []
    counts = {row[column]: row["n"] for row in await Customer.select_in_tenant(
        getattr(Customer, column), Count(alias="n"),
    ).where(Customer.erased_at.is_null(), getattr(Customer, column).is_not_null())
        .group_by(getattr(Customer, column))}
    return [(counts.get(m["id"], 0), m["name"], m["id"]) for m in members]


async def assign_teams(customer_ids: Sequence[uuid.UUID]) -> None:
    """Fill the empty team slots of these customers with the least-loaded staff member of
    each kind, one customer at a time so a batch spreads evenly."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return
    rows = []
    for part in db.chunks(ids, CHUNK):
        rows += await Customer.select_in_tenant(
            Customer.id, *(getattr(Customer, c) for c in TEAM_SLOTS),
        ).where(Customer.id.is_in(list(part)), Customer.team_set_by_admin == False,  # noqa: E712
                Customer.erased_at.is_null())
    updates: dict[uuid.UUID, dict] = {}
    for column, kind in TEAM_SLOTS.items():
        waiting = [row for row in rows if row[column] is None]
        if not waiting:
            continue
        heap = await staff_loads(kind)
        if not heap:
            continue
        heapq.heapify(heap)
        for row in waiting:
            load, name, staff_id = heapq.heappop(heap)
            update = updates.setdefault(row["id"], {c: row[c] for c in ("id", *TEAM_SLOTS)})
            update[column] = staff_id
            heapq.heappush(heap, (load + 1, name, staff_id))
    await bulk_update("customer", list(updates.values()),
                      {"id": "uuid", **dict.fromkeys(TEAM_SLOTS, "uuid")})
