"""Due lists: generated once a day per dealer, in the dealer's time zone, by one
set-based INSERT … SELECT; read by the CS centre as today's list; answered by CS agents."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dealerhub.platform import db, events
from dealerhub.platform.campaigns.due_lists.rules import REASONS, DueDay, rules
from dealerhub.platform.campaigns.due_lists.tables import DueListEntry, DueListRun, DueListSettings
from dealerhub.platform.campaigns.sql import new_id, param
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope, transaction
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.fields import FieldError, InvalidInput
from dealerhub.tenants.vehicles.tables import Vehicle

OUTCOMES = ("accepted", "declined", "no_answer")
OPEN_STATUSES = ("open", "contacted")
SORTS = {"due_on": DueListEntry.due_on, "reason": DueListEntry.reason,
         "target_on": DueListEntry.target_on}
ENTRY_COLUMNS = ("reason", "occasion", "customer_id", "vehicle_id", "repair_order_id",
                 "target_on")


@dataclass(frozen=True)
class Generated:
    tenant_id: uuid.UUID
    day: date
    by_reason: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


def local_today(time_zone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(time_zone)).date()


async def _due_day(tenant_id: uuid.UUID, now: datetime) -> DueDay:
    """The dealer's local day and its settings, in one round trip (inside the scope)."""
    rows = await db.fetch(
        "select d.time_zone, (select s.declined_work_days from due_list_settings s "
        "where s.tenant_id = d.id) as declined_work_days from dealer d where d.id = {}",
        tenant_id)
    if not rows:
        raise LookupError(f"no dealer {tenant_id}")
    zone = ZoneInfo(rows[0]["time_zone"])
    return DueDay(tenant_id, now.astimezone(zone).date(), zone,
                  rows[0]["declined_work_days"] or 14)


def generation_sql(day: DueDay, now: datetime) -> tuple[str, list[Any]]:
    """The one statement that adds the day's new entries for every rule.

    Entries already there are left out by a NOT EXISTS on the (reason, occasion) key rather
    than ON CONFLICT: a speculative insertion per row made the statement about a third
    slower (bench/README.md, due_lists). Two runs for one dealer take turns
    (`_one_run_at_a_time`), and the unique key still refuses a duplicate."""
    parts = rules(day)
    union = " union all ".join(part.sql for part in parts.values())
    args = [arg for part in parts.values() for arg in part.args]
    columns = ", ".join(ENTRY_COLUMNS)
    sql = (f"with due({columns}) as ({union}) "
           f"insert into due_list_entry (id, tenant_id, {columns}, due_on, status, created_at) "
           f"select {new_id()}, {param('uuid')}, {columns}, {param('date')}, 'open', "
           f"{param('timestamptz')} from due where not exists (select 1 from due_list_entry e "
           "where e.tenant_id = {} and e.reason = due.reason and e.occasion = due.occasion) "
           "returning reason")
    return sql, [*args, day.tenant_id, day.today, now, day.tenant_id]


async def _one_run_at_a_time(tenant_id: uuid.UUID) -> None:
    """Wait for another generation of this dealer's lists to commit (inside the scope), so
    this one's statements see its entries. SQLite writers already take turns."""
    if db.is_postgres():
        await db.fetch("select pg_advisory_xact_lock(hashtextextended({}, 0))",
                       f"due_lists:{tenant_id}")


async def generate_due_lists(tenant_id: uuid.UUID, now: datetime | None = None) -> Generated:
    """Add today's new due-list entries for one dealer (idempotent within a day)."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id) as tid:
        await _one_run_at_a_time(tid)
        day = await _due_day(tid, now)
        sql, args = generation_sql(day, now)
        counts = Counter(row["reason"] for row in await db.fetch(sql, *args))
        by_reason = {reason: counts.get(reason, 0) for reason in REASONS}
        await db.fetch(
            "insert into due_list_run (id, created_at, dealer_id, generated_on, new_entries) "
            "values ({}, {}, {}, {}, {}) on conflict do nothing",
            db.new_id(), now, tid, day.today, sum(by_reason.values()))
        await events.emit("due_list.generated", {"day": day.today.isoformat(),
                                                 "new_entries": sum(by_reason.values()),
                                                 "by_reason": by_reason})
    return Generated(tid, day.today, by_reason)


async def dealers_to_generate(now: datetime | None = None) -> list[uuid.UUID]:
    """Active dealers whose lists for their own local today are not generated yet."""
    now = now or datetime.now(UTC)
    async with transaction(write=False):
        dealers = await Dealer.select(Dealer.id, Dealer.time_zone).where(
            Dealer.status == "active")
        days = {row["id"]: local_today(row["time_zone"], now) for row in dealers}
        done = {(row["dealer_id"], row["generated_on"]) for row in await DueListRun.select(
            DueListRun.dealer_id, DueListRun.generated_on).where(
            DueListRun.generated_on >= min(days.values(), default=now.date()))}
    return [dealer_id for dealer_id, day in days.items() if (dealer_id, day) not in done]


@dataclass(frozen=True)
class DueListPage:
    entries: list[dict[str, Any]]
    total: int
    counts: dict[str, int]
    today: date


async def todays_list(tenant_id: uuid.UUID, *, reason: str | None = None, page: int = 1,
                      per_page: int = 25, sort: str = "due_on", descending: bool = False,
                      now: datetime | None = None) -> DueListPage:
    """Open entries due today or earlier, with the customer's name and plate, and the
    count per reason."""
    if reason is not None and reason not in REASONS:
        raise InvalidInput([FieldError("reason", f"must be one of {', '.join(REASONS)}")])
    if sort not in SORTS:
        raise InvalidInput([FieldError("sort", f"must be one of {', '.join(SORTS)}")])
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id, write=False) as tid:
        today = (await _due_day(tid, now)).today
        where = (DueListEntry.status.is_in(list(OPEN_STATUSES))) & (DueListEntry.due_on <= today)
        counts = Counter(row["reason"] for row in await DueListEntry.select_in_tenant(
            DueListEntry.reason).where(where))
        if reason:
            where &= DueListEntry.reason == reason
        total = await DueListEntry.count_in_tenant().where(where)
        rows = await db.paged(DueListEntry.select_in_tenant().where(where).order_by(
            SORTS[sort], ascending=not descending).order_by(DueListEntry.id), page, per_page)
        names = await _names([row["customer_id"] for row in rows],
                             [row["vehicle_id"] for row in rows if row["vehicle_id"]])
    for row in rows:
        row["customer_name"] = names.get(row["customer_id"], "")
        row["plate"] = names.get(row["vehicle_id"], "") if row["vehicle_id"] else ""
    return DueListPage(rows, total, dict(counts), today)


async def _names(customer_ids: list[uuid.UUID], vehicle_ids: list[uuid.UUID]) -> dict[Any, str]:
    """Customers' names and vehicles' plates for one page of entries (inside the scope)."""
    found: dict[Any, str] = {}
    if customer_ids:
        for row in await Customer.select_in_tenant(Customer.id, Customer.name).where(
                Customer.id.is_in(customer_ids)):
            found[row["id"]] = row["name"]
    if vehicle_ids:
        for row in await Vehicle.select_in_tenant(Vehicle.id, Vehicle.plate, Vehicle.vin).where(
                Vehicle.id.is_in(vehicle_ids)):
            found[row["id"]] = row["plate"] or row["vin"]
    return found


def check_answer(field: str, value: str, choices: tuple[str, ...], reason: str) -> None:
    """A CS agent's answer: one of `choices`; a refusal needs its reason."""
    if value not in choices:
        raise InvalidInput([FieldError(field, f"must be one of {', '.join(choices)}")])
    if value == "declined" and not reason.strip():
        raise InvalidInput([FieldError("reason", "say why the customer declined")])


async def record_outcome(tenant_id: uuid.UUID, entry_id: uuid.UUID, outcome: str,
                         reason: str = "", user_id: uuid.UUID | None = None,
                         now: datetime | None = None) -> DueListEntry | None:
    """A CS agent's call result: accepted or declined (with the reason) answers the entry;
    no answer only marks it contacted, so the next reminder still goes out."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        entry = await DueListEntry.get_in_tenant(entry_id)
        if entry is None:  # another dealer's entry is missing, whatever the input
            return None
        check_answer("outcome", outcome, OUTCOMES, reason)
        values: dict[Any, Any] = {DueListEntry.contacted_at: now,
                                  DueListEntry.handled_by: user_id,
                                  DueListEntry.outcome_reason: reason.strip()[:200]}
        if outcome == "no_answer":
            values[DueListEntry.status] = "contacted"
        else:
            values[DueListEntry.status] = outcome
            values[DueListEntry.answered_at] = now
        await DueListEntry.update_in_tenant(values).where(DueListEntry.id == entry_id)
        return await DueListEntry.get_in_tenant(entry_id)


async def mark_visited(vehicle_id: uuid.UUID | None, customer_id: uuid.UUID) -> None:
    """A visit settles the open entries of that vehicle (call inside the tenant scope)."""
    condition = DueListEntry.status.is_in(list(OPEN_STATUSES))
    if vehicle_id is not None:
        condition &= DueListEntry.vehicle_id == vehicle_id
    else:
        condition &= DueListEntry.customer_id == customer_id
    await DueListEntry.update_in_tenant({DueListEntry.status: "visited"}).where(condition)


async def get_settings(tenant_id: uuid.UUID) -> int:
    async with tenant_scope(tenant_id, write=False):
        row = await DueListSettings.select_in_tenant(DueListSettings.declined_work_days).first()
    return row["declined_work_days"] if row else 14


async def set_declined_work_days(tenant_id: uuid.UUID, days: int) -> int:
    if not 1 <= days <= 365:
        raise InvalidInput([FieldError("declined_work_days", "must be between 1 and 365")])
    async with tenant_scope(tenant_id):
        updated = await DueListSettings.update_in_tenant(
            {DueListSettings.declined_work_days: days}).returning(DueListSettings.id)
        if not updated:
            await DueListSettings.insert_in_tenant(DueListSettings(declined_work_days=days))
    return days
