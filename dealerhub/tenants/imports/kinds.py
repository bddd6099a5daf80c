"""What each DMS export holds (columns, with their Chinese headers) and how a batch of its
rows is validated and applied: bad rows are reported and skipped, good rows upserted by
the dealer's external id in one set-based statement."""

from __future__ import annotations

import asyncio
import os
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from heapq import merge
from typing import Any
from zoneinfo import ZoneInfo

from dealerhub.platform import db, events
from dealerhub.platform.directory import dealer_zone
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import insert_rows, require_tenant
from dealerhub.tenants.bulk import (
    bulk_insert,
    bulk_update,
    bulk_upsert,
    insert_from,
    loaded,
    one_of,
    staged,
    upsert_from,
)
from dealerhub.tenants.customers.facts import refresh_customer_facts
from dealerhub.tenants.customers.service import after_customer_write, clean_customer
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.fields import Cleaner, FieldError, InvalidInput
from dealerhub.tenants.imports.readers import header_key
from dealerhub.tenants.repair_orders.service import visit_event_payload
from dealerhub.tenants.repair_orders.tables import RO_TYPES, RepairOrder, RepairOrderLine
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.facts import (
    FACT_TYPES,
    Reading,
    last_services,
    readings_of,
    refresh_vehicle_facts,
    vehicle_facts,
    vehicle_models,
)
from dealerhub.tenants.vehicles.service import (
    VEHICLE_FIELDS,
    clean_vehicle,
    insurance_events,
    sold_event,
)
from dealerhub.tenants.vehicles.tables import Vehicle

Row = tuple[int, dict[str, Any]]


@dataclass
class BatchOutcome:
    applied: int = 0
    errors: list[tuple[int, FieldError]] = field(default_factory=list)

    def refuse(self, number: int, errors: Sequence[FieldError]) -> None:
        self.errors += [(number, error) for error in errors]


class SeenKeys:
    """The keys (64-bit hashes of external ids and VINs) met so far in one file, to refuse a
    repeat. Kept in sorted 8-byte arrays: a million rows' keys take 16 MB, where a set of
    ints took 150. The newest keys are a set; older ones are sorted runs, merged as they pile
    up like a binary counter's digits, so there are at most log2(keys / SEGMENT) + 1 runs
    and a lookup is a few binary searches however long the file (one run per 65,536 keys
    cost 68 µs a row by the end of a million rows)."""

    SEGMENT = 65536

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._runs: list[array[int]] = []  # longest first

    def __contains__(self, key: int) -> bool:
        if key in self._recent:
            return True
        for run in self._runs:
            at = bisect_left(run, key)
            if at < len(run) and run[at] == key:
                return True
        return False

    def add(self, key: int) -> None:
        self._recent.add(key)
        if len(self._recent) >= self.SEGMENT:
            run = array("q", sorted(self._recent))
            self._recent = set()
            while self._runs and len(self._runs[-1]) <= len(run):
                run = array("q", merge(self._runs.pop(), run))
            self._runs.append(run)

    @property
    def runs(self) -> int:
        return len(self._runs)


@dataclass
class Checked:
    """A batch after the checks that need no database (run while the batch before it is
    being written): the rows that passed, and the refusals so far. `reference` is what the
    checks read (see `ImportKind.reference`)."""

    rows: int
    good: list[Any]
    reference: Any = None
    outcome: BatchOutcome = field(default_factory=BatchOutcome)


async def no_reference(tenant_id: uuid.UUID) -> None:
    return None


VALUE_ALIASES: dict[str, dict[str, str]] = {
    "gender": {"男": "male", "女": "female", "m": "male", "f": "female"},
    "category": {"潜在": "potential", "潜客": "potential", "成交": "won", "战败": "lost",
                 "投诉": "complaint"},
    "customer_type": {"价值型": "value", "便利型": "convenience", "关系型": "relationship"},
    "preferred_channel": {"短信": "sms", "邮件": "email", "电话": "voice", "微信": "wechat",
                          "信件": "letter"},
}


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: dict[str, tuple[str, ...]]  # canonical name -> accepted headers
    required: tuple[str, ...]
    check: Callable[[list[Row], set[int], Any], Checked]
    apply: Callable[[Checked], Awaitable[BatchOutcome]]
    # what the checks need from the database (the OEM's catalogue, the dealer's time
    # zone), read once before the first batch
    reference: Callable[[uuid.UUID], Awaitable[Any]] = no_reference
    # the tables its batches grow, re-analysed as a large import goes (see service)
    grows: tuple[str, ...] = ()
    # batches written side by side: more than 1 only where no row depends on a row of
    # another batch (every key the rows share is checked across the file before writing)
    batches_at_once: int = 1

    def header_map(self, headers: Sequence[Any]) -> dict[Any, str]:
        lookup = {header_key(alias): name for name, aliases in self.columns.items()
                  for alias in (name, *aliases)}
        return {header: lookup[header_key(header)] for header in headers
                if header_key(header) in lookup}


def canonical(raw: Mapping[Any, Any], mapping: Mapping[Any, str]) -> dict[str, Any]:
    """The row under canonical names, text stripped and Chinese values translated (once
    per imported row: one comprehension, then only the columns that have aliases)."""
    row = {name: value.strip() if isinstance(value := raw.get(header), str) else value
           for header, name in mapping.items()}
    for name, aliases in VALUE_ALIASES.items():
        if isinstance(value := row.get(name), str):
            row[name] = aliases.get(value, value)
    return row


def _take_external_id(number: int, raw: dict[str, Any], seen: SeenKeys,
                      outcome: BatchOutcome, today: date | None = None) -> str | None:
    clean = Cleaner(raw, today)
    external_id = clean.text("external_id", required=True, max_length=64)
    if external_id is not None:
        key = hash(external_id)
        if key in seen:
            clean.fail("external_id", f"{external_id} appears more than once in this file; "
                                      "only its first row was applied")
            external_id = None
        else:
            seen.add(key)
    if clean.errors:
        outcome.refuse(number, clean.errors)
    return external_id


CUSTOMER_TYPES_SQL = {"id": "uuid", "external_id": "text", "name": "text", "phone_e164": "text",
                      "phone_reversed": "text", "email": "text", "wechat_id": "text",
                      "gender": "text", "birth_date": "date", "city": "text", "district": "text",
                      "occupation": "text", "preferred_channel": "text", "customer_type": "text",
                      "category": "text", "locale": "text", "referred_by_customer_id": "uuid",
                      "home_latitude": "float8", "home_longitude": "float8",
                      "updated_at": "timestamptz"}


def check_customers(rows: list[Row], seen: SeenKeys, reference: None) -> Checked:
    checked = Checked(len(rows), [])
    outcome, good = checked.outcome, checked.good
    for number, raw in rows:
        external_id = _take_external_id(number, raw, seen, outcome)
        referrer = raw.pop("referred_by_external_id", None)
        try:
            values = clean_customer({**raw, "name": raw.get("name")}, partial=True)
        except InvalidInput as invalid:
            outcome.refuse(number, [e for e in invalid.errors if e.field != "external_id"])
            continue
        if external_id is not None:
            good.append((number, values, str(referrer).strip() if referrer else None))
    return checked


async def apply_customers(checked: Checked) -> BatchOutcome:
    outcome, good = checked.outcome, checked.good
    wanted = {ref for _, _, ref in good if ref}
    known = {row["external_id"]: row["id"] for row in await Customer.select_in_tenant(
        Customer.id, Customer.external_id).where(Customer.external_id.is_in(list(wanted)))
    } if wanted else {}
    in_batch = {values["external_id"] for _, values, _ in good}
    records = []
    for number, values, referrer in good:
        if referrer and referrer not in known and referrer not in in_batch:
            outcome.refuse(number, [FieldError("referred_by_external_id",
                                               f"no customer with id {referrer}")])
            continue
        values.update(id=uuid.uuid4(), updated_at=datetime.now(UTC))
        records.append((values, referrer))
    if not records:
        return outcome
    present = set().union(*(values.keys() for values, _ in records))
    types = {c: t for c, t in CUSTOMER_TYPES_SQL.items() if c in present}
    written = await bulk_upsert("customer", [v for v, _ in records], types, "external_id")
    ids = {row["external_id"]: uuid.UUID(str(row["id"])) for row in written}
    known.update(ids)
    links = [{"id": ids[values["external_id"]], "referred_by_customer_id": known[referrer]}
             for values, referrer in records
             if referrer and known[referrer] != ids[values["external_id"]]]
    if links:
        await bulk_update("customer", links, {"id": "uuid", "referred_by_customer_id": "uuid"})
    await after_customer_write(list(ids.values()))
    outcome.applied = len(records)
    return outcome


VEHICLE_TYPES_SQL = {"id": "uuid", "external_id": "text", "customer_id": "uuid", "vin": "text",
                     "plate": "text", "model_code": "text", "model_year": "int",
                     "purchase_date": "date", "insurance_expiry": "date", "open_recalls": "jsonb",
                     **FACT_TYPES}
READING_TYPES_SQL = {"id": "uuid", "vehicle_id": "uuid", "read_on": "date", "km": "int",
                     "source": "text"}
# a batch's vehicles are staged with their new reading, which is inserted from there
STAGED_TYPES_SQL = {**VEHICLE_TYPES_SQL, "read_on": "date", "km": "int"}


def _reading_from_staged() -> dict[str, str]:
    return {"id": db.new_uuid_sql(), "vehicle_id": "x.id", "read_on": "x.read_on",
            "km": "x.km", "source": "'import'"}


def _new_vehicle_facts(values: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
    """The derived facts of a vehicle from this row alone (no earlier readings or visits)."""
    km = values.get("km")
    values.update(vehicle_facts(
        purchase_date=values["purchase_date"], warranty_end=values["warranty_end"],
        warranty_end_km=values["warranty_end_km"], model=models.get(values["model_code"] or ""),
        readings=[Reading(values["read_on"], km)] if km is not None else [],
        last_service=None))


def _new_ids(count: int) -> Iterator[uuid.UUID]:
    """Random (version 4) ids from one read of the system's random source: `uuid4` reads it
    once per id, releasing the GIL each time, and the checking thread then waits for the
    writing one to hand it back."""
    block = os.urandom(16 * count)
    return (uuid.UUID(bytes=block[at:at + 16], version=4) for at in range(0, len(block), 16))


def check_vehicles(rows: list[Row], seen: SeenKeys,
                   models: dict[str, dict[str, Any]]) -> Checked:
    """Rows checked on their own, with the facts they would have as new vehicles."""
    checked = Checked(len(rows), [], models)
    outcome, good = checked.outcome, checked.good
    today = date.today()
    present = frozenset(rows[0][1]) if rows else frozenset()  # every row has the file's columns
    new_ids = _new_ids(len(rows))
    for number, raw in rows:
        external_id = _take_external_id(number, raw, seen, outcome, today)
        clean = Cleaner(raw, today)
        owner = clean.text("customer_external_id", required=True, max_length=64)
        km = clean.integer("odometer_km", maximum=2_000_000)
        read_on = clean.date("odometer_on", not_future=True) or today
        errors = list(clean.errors)
        try:
            values = clean_vehicle(raw, today=today)
        except InvalidInput as invalid:
            errors += [e for e in invalid.errors if e.field != "external_id"]
            values = {}
        if not errors and (vin_key := hash(("vin", values["vin"]))) in seen:
            errors.append(FieldError("vin", "appears more than once in this file; only its "
                                            "first row was applied"))
        if errors:
            outcome.refuse(number, errors)
        elif external_id is not None and owner is not None:
            seen.add(vin_key)
            values["id"] = next(new_ids)  # kept if the vehicle is new
            if km is not None:
                values.update(read_on=read_on, km=km)
            _new_vehicle_facts(values, models)
            good.append((number, values, owner, km, read_on, present))
    return checked


async def apply_vehicles(checked: Checked) -> BatchOutcome:
    outcome, good = checked.outcome, checked.good
    today = date.today()
    if not good:
        return outcome
    owner_rows = await Customer.select_in_tenant(
        Customer.id, Customer.external_id, Customer.insurance_staff_id,
    ).where(one_of(Customer.external_id, list({g[2] for g in good})),
            Customer.erased_at.is_null())
    owners = {row["external_id"]: row["id"] for row in owner_rows}
    insurers = {row["id"]: row["insurance_staff_id"] for row in owner_rows}
    by_vin = {row["vin"]: row for row in await Vehicle.select_in_tenant(
        Vehicle.id, Vehicle.vin, Vehicle.external_id,
    ).where(one_of(Vehicle.vin, [g[1]["vin"] for g in good]))}
    by_external = {row["external_id"]: row for row in await Vehicle.select_in_tenant(
        Vehicle.id, *(getattr(Vehicle, name) for name in VEHICLE_FIELDS),
    ).where(one_of(Vehicle.external_id, [g[1]["external_id"] for g in good]))}
    existing_ids = [row["id"] for row in by_external.values()]
    readings = await readings_of(existing_ids)
    services = await last_services(existing_ids)
    models = await vehicle_models()
    records = []
    found: list[tuple[str, dict[str, Any]]] = []  # events
    for number, values, owner, km, read_on, present in good:
        errors = []
        if owner not in owners:
            errors.append(FieldError("customer_external_id", f"no customer with id {owner}"))
        other = by_vin.get(values["vin"])
        if other and other["external_id"] != values["external_id"]:
            errors.append(FieldError("vin", "is already registered to another vehicle "
                                            f"({other['external_id'] or 'entered by hand'})"))
        current = by_external.get(values["external_id"])
        existing = current["id"] if current else None
        history = readings.get(existing, []) if existing else []
        if km is not None and existing is not None:
            earlier = max((r.km for r in history if r.on <= read_on), default=None)
            if earlier is not None and km < earlier:
                errors.append(FieldError(
                    "odometer_km", f"{km} km is lower than the earlier reading of {earlier} km"))
        if errors:
            outcome.refuse(number, errors)
            continue
        if km is not None and Reading(read_on, km) in history:
            del values["km"]  # already recorded: importing the same file again adds nothing
        if current:  # columns the file does not have keep their stored values
            values.update({name: loaded(current[name], []) if name == "open_recalls"
                           else current[name] for name in VEHICLE_FIELDS if name not in present})
        values.update(id=existing or values["id"], customer_id=owners[owner])
        if existing:
            values.update(vehicle_facts(
                purchase_date=values["purchase_date"], warranty_end=values["warranty_end"],
                warranty_end_km=values["warranty_end_km"],
                model=models.get(values["model_code"] or ""),
                readings=[*history, *([Reading(read_on, km)] if km is not None else [])],
                last_service=services.get(existing)))
        elif models != checked.reference:  # the OEM changed the catalogue meanwhile
            _new_vehicle_facts(values, models)
        records.append(values)
        found += insurance_events(
            values["id"], values["customer_id"], insurers[values["customer_id"]],
            current["insurance_expiry"] if current else None, values["insurance_expiry"])
        if existing is None and (event := sold_event(
                values["id"], values["customer_id"], values["purchase_date"], today)):
            found.append(("vehicle.sold", event))
    if not records:
        return outcome
    # the events' outbox rows are made in a thread while the vehicles are written
    outbox = asyncio.create_task(asyncio.to_thread(events.outbox_rows, found, require_tenant()))
    async with staged(records, STAGED_TYPES_SQL) as source:
        written = await upsert_from(source, "vehicle", VEHICLE_TYPES_SQL, "external_id",
                                    returning=True)
        ids = {row["external_id"]: str(row["id"]) for row in written}
        if all(ids[r["external_id"]] == str(r["id"]) for r in records):
            # the usual case: the readings come from the rows already staged
            await insert_from(source, "odometer_reading", _reading_from_staged(),
                              "x.km is not null")
        else:  # another import added one of these vehicles since they were looked up
            await bulk_insert("odometer_reading", [
                {"id": uuid.uuid4(), "vehicle_id": ids[r["external_id"]],
                 "read_on": r["read_on"], "km": r["km"], "source": "import"}
                for r in records if r.get("km") is not None], READING_TYPES_SQL)
    await refresh_customer_facts(list({r["customer_id"] for r in records}))
    await insert_rows((EventOutbox, await outbox))
    outcome.applied = len(records)
    return outcome


RO_TYPE_ALIASES = {"保养": "maintenance", "定期保养": "maintenance", "首保": "maintenance",
                   "维修": "repair", "一般维修": "repair", "返修": "rework", "返工": "rework",
                   "保修": "warranty", "索赔": "warranty", "事故": "accident", "事故车": "accident",
                   "保险": "insurance"}
RECENT_VISIT_DAYS = 7
REPAIR_ORDER_TYPES_SQL = {"id": "uuid", "external_id": "text", "vehicle_id": "uuid",
                          "customer_id": "uuid", "advisor_staff_id": "uuid", "ro_type": "text",
                          "status": "text", "opened_at": "timestamptz",
                          "closed_at": "timestamptz", "mileage_km": "int"}
LINE_TYPES_SQL = {"id": "uuid", "repair_order_id": "uuid", "vehicle_id": "uuid",
                  "line_no": "int", "operation_code": "text", "description": "text",
                  "amount": "numeric", "status": "text"}


@dataclass
class RepairOrderRow:
    number: int
    visit: dict[str, Any]
    line: dict[str, Any] | None
    vehicle_key: str
    advisor_key: str | None


def _clean_repair_order_row(number: int, raw: dict[str, Any], zone: ZoneInfo, today: date,
                            seen: SeenKeys, outcome: BatchOutcome) -> RepairOrderRow | None:
    """One export row is one line of a repair order with the order's own columns repeated
    (a row without an operation code carries the order alone)."""
    clean = Cleaner(raw, today)
    external_id = clean.text("external_id", required=True, max_length=64)
    vehicle_key = clean.text("vehicle_external_id", required=True, max_length=64)
    ro_type = clean.choice("ro_type", sorted(RO_TYPES), required=True)
    opened_at = clean.moment("opened_at", zone, required=True)
    closed_at = clean.moment("closed_at", zone)
    if opened_at and closed_at and closed_at < opened_at:
        clean.fail("closed_at", "cannot be before the repair order was opened")
    visit = {"external_id": external_id, "ro_type": ro_type, "opened_at": opened_at,
             "closed_at": closed_at, "status": "closed" if closed_at else "open",
             "mileage_km": clean.integer("mileage_km", maximum=2_000_000)}
    advisor_key = clean.text("advisor_external_id", max_length=64)
    line = None
    if clean.present("operation_code") and raw.get("operation_code") not in (None, ""):
        line = {"line_no": clean.integer("line_no", required=True, minimum=1),
                "operation_code": clean.text("operation_code", required=True, max_length=32),
                "description": clean.text("description", max_length=200) or "",
                "amount": clean.amount("amount", required=True),
                "status": "declined" if clean.flag("declined") else "done"}
    if not clean.errors:
        key = hash((external_id, line["line_no"] if line else None))
        if key in seen:
            clean.fail("line_no" if line else "external_id",
                       "appears more than once in this file; only its first row was applied")
        seen.add(key)
    if clean.errors:
        outcome.refuse(number, clean.errors)
        return None
    return RepairOrderRow(number, visit, line, vehicle_key or "", advisor_key)


def check_repair_orders(rows: list[Row], seen: SeenKeys, zone: ZoneInfo) -> Checked:
    checked = Checked(len(rows), [], zone)
    today = date.today()
    checked.good = [row for number, raw in rows if (row := _clean_repair_order_row(
        number, {**raw, "ro_type": RO_TYPE_ALIASES.get(str(raw.get("ro_type") or ""),
                                                        raw.get("ro_type"))},
        zone, today, seen, checked.outcome)) is not None]
    return checked


async def apply_repair_orders(checked: Checked) -> BatchOutcome:
    """Visits from the DMS, upserted by the order's number and each line's number; mileage
    becomes an odometer reading (refused when it goes backwards), facts are recomputed, and
    only orders that this import closes within the last week count as new visits (events),
    so loading years of history sends no surveys."""
    outcome, good, zone = checked.outcome, checked.good, checked.reference
    if not good:
        return outcome
    vehicles = {row["external_id"]: row for row in await Vehicle.select_in_tenant(
        Vehicle.id, Vehicle.external_id, Vehicle.customer_id).where(
        one_of(Vehicle.external_id, list({g.vehicle_key for g in good})))}
    advisor_keys = list({g.advisor_key for g in good if g.advisor_key})
    advisors = {row["external_id"]: row["id"] for row in await Staff.select_in_tenant(
        Staff.id, Staff.external_id).where(one_of(Staff.external_id, advisor_keys))
    } if advisor_keys else {}
    stored = {row["external_id"]: row for row in await RepairOrder.select_in_tenant(
        RepairOrder.id, RepairOrder.external_id, RepairOrder.vehicle_id, RepairOrder.status,
    ).where(one_of(RepairOrder.external_id, list({g.visit["external_id"] for g in good})))}
    readings = await readings_of([v["id"] for v in vehicles.values()])
    visits: dict[str, dict[str, Any]] = {}
    lines: list[tuple[str, dict[str, Any]]] = []
    for row in good:
        errors = []
        vehicle = vehicles.get(row.vehicle_key)
        previous = stored.get(row.visit["external_id"])
        if vehicle is None:
            errors.append(FieldError("vehicle_external_id",
                                     f"no vehicle with id {row.vehicle_key}"))
        elif previous and previous["vehicle_id"] != vehicle["id"]:
            errors.append(FieldError("vehicle_external_id",
                                     "this repair order belongs to another vehicle"))
        if row.advisor_key and row.advisor_key not in advisors:
            errors.append(FieldError("advisor_external_id", f"no staff member with id "
                                                            f"{row.advisor_key}"))
        km = row.visit["mileage_km"]
        if vehicle and km is not None and previous is None:
            read_on = row.visit["opened_at"].astimezone(zone).date()
            earlier = max((r.km for r in readings.get(vehicle["id"], []) if r.on <= read_on),
                          default=None)
            if earlier is not None and km < earlier:
                errors.append(FieldError(
                    "mileage_km", f"{km} km is lower than the earlier reading of {earlier} km"))
        if errors:
            outcome.refuse(row.number, errors)
            continue
        assert vehicle is not None
        visit = visits.setdefault(row.visit["external_id"], {
            **row.visit, "vehicle_id": vehicle["id"], "customer_id": vehicle["customer_id"],
            "advisor_staff_id": advisors.get(row.advisor_key or ""),
            "id": previous["id"] if previous else uuid.uuid4()})
        if row.line is not None:
            lines.append((visit["external_id"], row.line))
        outcome.applied += 1
    if not visits:
        return outcome
    written = await bulk_upsert("repair_order", list(visits.values()), REPAIR_ORDER_TYPES_SQL,
                                "external_id")
    ids = {row["external_id"]: uuid.UUID(str(row["id"])) for row in written}
    if lines:
        await bulk_upsert("repair_order_line", [
            {**line, "id": uuid.uuid4(), "repair_order_id": ids[external_id],
             "vehicle_id": visits[external_id]["vehicle_id"]} for external_id, line in lines],
            LINE_TYPES_SQL, "repair_order_id, line_no")
    totals = {ro_id: Decimal("0") for ro_id in ids.values()}
    for line in await RepairOrderLine.select_in_tenant(
            RepairOrderLine.repair_order_id, RepairOrderLine.amount).where(
            one_of(RepairOrderLine.repair_order_id, list(ids.values())),
            RepairOrderLine.status == "done"):
        totals[line["repair_order_id"]] += Decimal(str(line["amount"]))
    await bulk_update("repair_order", [{"id": ro_id, "total_amount": total}
                                       for ro_id, total in totals.items()],
                      {"id": "uuid", "total_amount": "numeric"})
    new_readings = [{"id": uuid.uuid4(), "vehicle_id": v["vehicle_id"],
                     "read_on": v["opened_at"].astimezone(zone).date(), "km": v["mileage_km"],
                     "source": "repair_order", "repair_order_id": ids[key]}
                    for key, v in visits.items()
                    if v["mileage_km"] is not None and key not in stored]
    await bulk_insert("odometer_reading", new_readings,
                      {**READING_TYPES_SQL, "repair_order_id": "uuid"})
    await refresh_vehicle_facts([v["vehicle_id"] for v in visits.values()])
    await refresh_customer_facts(list({v["customer_id"] for v in visits.values()}))
    recent = datetime.now(UTC) - timedelta(days=RECENT_VISIT_DAYS)
    await events.emit_many("repair_order.closed", [
        visit_event_payload(RepairOrder(**{**v, "id": ids[key],
                                           "total_amount": totals[ids[key]]}))
        for key, v in visits.items()
        if v["closed_at"] and v["closed_at"] >= recent
        and (key not in stored or stored[key]["status"] != "closed")])
    return outcome


KINDS = {
    "customers": ImportKind(
        "customers",
        columns={
            "external_id": ("客户编号", "客户代码", "customer_id", "customer_no"),
            "name": ("姓名", "客户姓名", "客户名称"),
            "phone": ("手机", "手机号", "电话", "联系电话", "mobile", "phone_number"),
            "email": ("邮箱", "电子邮件", "e-mail"),
            "wechat_id": ("微信", "微信号", "wechat"),
            "gender": ("性别", "sex"),
            "birth_date": ("生日", "出生日期", "birthday"),
            "city": ("城市",), "district": ("区县", "区"), "occupation": ("职业",),
            "preferred_channel": ("首选渠道", "联系方式偏好"),
            "customer_type": ("客户类型",), "category": ("客户类别", "类别"),
            "locale": ("语言",),
            "home_latitude": ("纬度", "latitude"), "home_longitude": ("经度", "longitude"),
            "referred_by_external_id": ("推荐人编号", "推荐人"),
        },
        required=("external_id", "name"),
        check=check_customers,
        apply=apply_customers,
        grows=("customer",),
    ),
    "vehicles": ImportKind(
        "vehicles",
        columns={
            "external_id": ("车辆编号", "车辆代码", "vehicle_id", "vehicle_no"),
            "customer_external_id": ("客户编号", "customer_id", "owner_id"),
            "vin": ("车架号", "VIN码", "车辆识别代号"),
            "plate": ("车牌", "车牌号", "plate_number"),
            "model_code": ("车型", "车型代码", "model"),
            "model_year": ("年款", "年份"),
            "purchase_date": ("购车日期", "销售日期", "sale_date"),
            "warranty_end": ("保修截止", "保修到期日", "warranty_end_date"),
            "warranty_end_km": ("保修里程",),
            "insurance_expiry": ("保险到期", "保险到期日"),
            "odometer_km": ("里程", "行驶里程", "mileage", "mileage_km"),
            "odometer_on": ("里程日期", "mileage_date"),
            "open_recalls": ("召回", "未完成召回"),
        },
        required=("external_id", "customer_external_id", "vin"),
        check=check_vehicles,
        apply=apply_vehicles,
        reference=lambda tenant_id: vehicle_models(),
        grows=("vehicle", "odometer_reading"),
        batches_at_once=2,
    ),
    "repair_orders": ImportKind(
        "repair_orders",
        columns={
            "external_id": ("工单号", "工单编号", "委托书号", "ro_no", "repair_order_no"),
            "vehicle_external_id": ("车辆编号", "车辆代码", "vehicle_id", "vehicle_no"),
            "ro_type": ("工单类型", "维修类型", "type"),
            "opened_at": ("开单时间", "进厂时间", "opened"),
            "closed_at": ("结算时间", "交车时间", "closed"),
            "mileage_km": ("进厂里程", "里程", "mileage"),
            "advisor_external_id": ("服务顾问编号", "服务顾问", "advisor_id"),
            "line_no": ("行号", "项目序号", "line"),
            "operation_code": ("工时代码", "项目代码", "操作代码", "op_code"),
            "description": ("项目名称", "维修项目", "项目描述"),
            "amount": ("金额", "结算金额", "工时费"),
            "declined": ("客户拒绝", "是否拒绝", "declined_by_customer"),
        },
        required=("external_id", "vehicle_external_id", "ro_type", "opened_at"),
        check=check_repair_orders,
        apply=apply_repair_orders,
        reference=dealer_zone,
        grows=("repair_order", "repair_order_line", "odometer_reading"),
    ),
}
