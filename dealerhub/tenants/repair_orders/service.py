"""Repair orders: opening at reception, closing at delivery with the work done and the work
declined, and the visit history that loyalty and maintenance prediction read."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from dealerhub.platform import db, events
from dealerhub.platform.tenancy import require_tenant, tenant_scope
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.customers.facts import refresh_customer_facts
from dealerhub.tenants.customers.timeline import TimelineEntry, register_timeline_source
from dealerhub.tenants.fields import Cleaner
from dealerhub.tenants.labels import label
from dealerhub.tenants.repair_orders.schemas import (
    DeclinedWork,
    RepairOrderLineRead,
    RepairOrderLineWrite,
    RepairOrderOpen,
    RepairOrderRead,
)
from dealerhub.tenants.repair_orders.tables import RO_TYPES, RepairOrder, RepairOrderLine
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.facts import refresh_vehicle_facts
from dealerhub.tenants.vehicles.service import add_odometer_reading
from dealerhub.tenants.vehicles.tables import Vehicle

CLOCK_SKEW = timedelta(minutes=10)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read(row: RepairOrder, lines: Sequence[RepairOrderLine] = ()) -> RepairOrderRead:
    return RepairOrderRead(
        id=row.id, external_id=row.external_id, vehicle_id=row.vehicle_id,
        customer_id=row.customer_id, advisor_staff_id=row.advisor_staff_id,
        technician_staff_ids=[uuid.UUID(str(t)) for t in loaded(row.technician_staff_ids, [])],
        appointment_id=row.appointment_id, ro_type=row.ro_type, status=row.status,
        opened_at=row.opened_at, closed_at=row.closed_at, mileage_km=row.mileage_km,
        intake=dict(loaded(row.intake, {})), total_amount=Decimal(str(row.total_amount or 0)),
        lines=[RepairOrderLineRead(line.id, line.operation_code, line.description,
                                   Decimal(str(line.amount)), line.status) for line in lines],
    )


def visit_event_payload(row: RepairOrder) -> dict[str, Any]:
    """What `repair_order.opened`/`closed` carry, whether the visit came by form, API or import."""
    return {"repair_order_id": row.id, "customer_id": row.customer_id,
            "vehicle_id": row.vehicle_id, "advisor_staff_id": row.advisor_staff_id,
            "ro_type": row.ro_type, "opened_at": row.opened_at, "closed_at": row.closed_at,
            "total_amount": float(row.total_amount or 0)}


async def _check_staff(clean: Cleaner, field: str, staff_ids: Sequence[uuid.UUID]) -> None:
    if not staff_ids:
        return
    found = await Staff.count_in_tenant().where(Staff.id.is_in(list(staff_ids)))
    if found != len(set(staff_ids)):
        clean.fail(field, "no such staff member")


async def open_repair_order(tenant_id: uuid.UUID, data: RepairOrderOpen) -> RepairOrderRead:
    """Open a visit; its mileage becomes an odometer reading (refused if it goes backwards)."""
    clean = Cleaner({"ro_type": data.ro_type, "mileage_km": data.mileage_km,
                     "external_id": data.external_id})
    ro_type = clean.choice("ro_type", sorted(RO_TYPES), required=True)
    mileage = clean.integer("mileage_km", maximum=2_000_000)
    external_id = clean.text("external_id", max_length=64)
    opened_at = _utc(data.opened_at)
    if opened_at > datetime.now(UTC) + CLOCK_SKEW:
        clean.fail("opened_at", "cannot be in the future")
    async with tenant_scope(tenant_id):
        vehicle = await Vehicle.get_in_tenant(data.vehicle_id)
        if vehicle is None:
            clean.fail("vehicle_id", "no such vehicle")
        elif vehicle.customer_id != data.customer_id:
            clean.fail("customer_id", "is not the owner of this vehicle")
        await _check_staff(clean, "advisor_staff_id",
                           [data.advisor_staff_id] if data.advisor_staff_id else [])
        await _check_staff(clean, "technician_staff_ids", data.technician_staff_ids)
        if external_id and await RepairOrder.count_in_tenant().where(
                RepairOrder.external_id == external_id):
            clean.fail("external_id", "is already used by another repair order")
        clean.done()
        row = RepairOrder(
            external_id=external_id, vehicle_id=data.vehicle_id, customer_id=data.customer_id,
            advisor_staff_id=data.advisor_staff_id,
            technician_staff_ids=[str(t) for t in data.technician_staff_ids],
            appointment_id=data.appointment_id, ro_type=ro_type, status="open",
            opened_at=opened_at, mileage_km=mileage, intake=data.intake,
        )
        await RepairOrder.insert_in_tenant(row)
        if mileage is not None:
            await add_odometer_reading(data.vehicle_id, mileage, opened_at.date(),
                                       source="repair_order", repair_order_id=row.id,
                                       field="mileage_km")
            await refresh_vehicle_facts([data.vehicle_id])
        await events.emit("repair_order.opened", visit_event_payload(row))
        return _read(row)


def _line(value: RepairOrderLineWrite | Mapping[str, Any]) -> RepairOrderLineWrite:
    if isinstance(value, RepairOrderLineWrite):
        return value
    return msgspec.convert(dict(value), RepairOrderLineWrite)


async def close_repair_order(tenant_id: uuid.UUID, repair_order_id: uuid.UUID,
                             closed_at: datetime | None,
                             lines: Sequence[RepairOrderLineWrite | Mapping[str, Any]],
                             ) -> RepairOrderRead | None:
    """Close a visit with its lines; declined lines are kept as declined work with their
    estimate and do not count in the amount paid."""
    closed_at = _utc(closed_at or datetime.now(UTC))
    clean = Cleaner({})
    written: list[RepairOrderLine] = []
    for index, raw in enumerate(lines):
        line = _line(raw)
        line_clean = Cleaner({"operation_code": line.operation_code, "amount": line.amount,
                              "description": line.description})
        code = line_clean.text("operation_code", required=True, max_length=32)
        amount = line_clean.amount("amount", required=True)
        description = line_clean.text("description", max_length=200) or ""
        for error in line_clean.errors:
            clean.fail(f"lines[{index}].{error.field}", error.reason)
        written.append(RepairOrderLine(operation_code=code, amount=amount,
                                       description=description,
                                       status="declined" if line.declined else "done"))
    if closed_at > datetime.now(UTC) + CLOCK_SKEW:
        clean.fail("closed_at", "cannot be in the future")
    async with tenant_scope(tenant_id):
        row = await RepairOrder.get_in_tenant(repair_order_id)
        if row is None:
            return None
        if row.status == "closed":
            clean.fail("status", "this repair order is already closed")
        elif closed_at < row.opened_at:
            clean.fail("closed_at", "cannot be before the repair order was opened")
        clean.done()
        for line in written:
            line.repair_order_id, line.vehicle_id = row.id, row.vehicle_id
        await RepairOrderLine.insert_in_tenant(*written)
        row.total_amount = sum((line.amount for line in written if line.status == "done"),
                               Decimal("0"))
        row.status, row.closed_at = "closed", closed_at
        await RepairOrder.update_in_tenant({
            RepairOrder.status: "closed", RepairOrder.closed_at: closed_at,
            RepairOrder.total_amount: row.total_amount,
        }).where(RepairOrder.id == row.id)
        await refresh_vehicle_facts([row.vehicle_id])
        await refresh_customer_facts([row.customer_id])
        await events.emit("repair_order.closed", visit_event_payload(row))
        return _read(row, written)


async def get_repair_order(tenant_id: uuid.UUID, repair_order_id: uuid.UUID,
                           ) -> RepairOrderRead | None:
    async with tenant_scope(tenant_id, write=False):
        row = await RepairOrder.get_in_tenant(repair_order_id)
        if row is None:
            return None
        lines = await RepairOrderLine.objects_in_tenant().where(
            RepairOrderLine.repair_order_id == row.id)
    return _read(row, lines)


async def repair_orders_for_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                                     limit: int = 100) -> list[RepairOrderRead]:
    async with tenant_scope(tenant_id, write=False):
        rows = await RepairOrder.objects_in_tenant().where(
            RepairOrder.customer_id == customer_id,
        ).order_by(RepairOrder.opened_at, ascending=False).limit(limit)
        lines = await RepairOrderLine.objects_in_tenant().where(
            RepairOrderLine.repair_order_id.is_in([r.id for r in rows])) if rows else []
    by_order: dict[uuid.UUID, list[RepairOrderLine]] = {}
    for line in lines:
        by_order.setdefault(line.repair_order_id, []).append(line)
    return [_read(row, by_order.get(row.id, [])) for row in rows]


async def declined_work(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> list[DeclinedWork]:
    """Work the customer declined on this vehicle, newest first, for follow-up."""
    async with tenant_scope(tenant_id, write=False):
        lines = await RepairOrderLine.objects_in_tenant().where(
            RepairOrderLine.vehicle_id == vehicle_id, RepairOrderLine.status == "declined")
        orders = {row["id"]: row for row in await RepairOrder.select_in_tenant(
            RepairOrder.id, RepairOrder.closed_at, RepairOrder.opened_at,
        ).where(RepairOrder.id.is_in([line.repair_order_id for line in lines]))} if lines else {}
    work = [DeclinedWork(
        line_id=line.id, repair_order_id=line.repair_order_id, vehicle_id=line.vehicle_id,
        operation_code=line.operation_code, description=line.description,
        estimate=Decimal(str(line.amount)),
        declined_at=orders[line.repair_order_id]["closed_at"]
        or orders[line.repair_order_id]["opened_at"],
        followed_up_at=line.followed_up_at,
    ) for line in lines]
    return sorted(work, key=lambda w: w.declined_at, reverse=True)


async def last_advisor(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> uuid.UUID | None:
    """The advisor of the customer's latest visit, for "dedicated reception" (appointments)."""
    async with tenant_scope(tenant_id, write=False):
        row = await RepairOrder.select_in_tenant(RepairOrder.advisor_staff_id).where(
            RepairOrder.customer_id == customer_id, RepairOrder.advisor_staff_id.is_not_null(),
        ).order_by(RepairOrder.opened_at, ascending=False).first()
    return row["advisor_staff_id"] if row else None


@dataclasses.dataclass(frozen=True)
class BookingFacts:
    """What booking a visit needs from the customer base, read in one statement."""

    vehicle: Mapping[str, Any]  # customer_id, vin, plate, model_code, purchase_date, open_recalls
    pickup_point: tuple[float, float] | None  # the customer's stored pick-up point
    declined_work: list[DeclinedWork]
    last_advisor: uuid.UUID | None
    advisors: list[tuple[uuid.UUID, str]]  # active service advisors (id, name)


# The booking hot path: vehicle, the owner's pick-up point, declined lines, the customer's
# last advisor and the active advisors in one round trip instead of five. `{agg}`/`{obj}`
# name the dialect's JSON functions (json_agg/json_build_object on PostgreSQL,
# json_group_array/json_object on SQLite).
BOOKING_FACTS_SQL = """
select v.id, v.customer_id, v.vin, v.plate, v.model_code, v.purchase_date, v.open_recalls,
  c.home_latitude, c.home_longitude,
  (select o.advisor_staff_id from repair_order o where o.tenant_id = v.tenant_id
     and o.customer_id = v.customer_id and o.advisor_staff_id is not null
     order by o.opened_at desc limit 1) as last_advisor,
  (select coalesce({agg}({obj}('line_id', l.id, 'repair_order_id', l.repair_order_id,
     'operation_code', l.operation_code, 'description', l.description,
     'estimate', cast(l.amount as text), 'declined_at', coalesce(o.closed_at, o.opened_at),
     'followed_up_at', l.followed_up_at)), '[]')
   from repair_order_line l join repair_order o
     on o.tenant_id = l.tenant_id and o.id = l.repair_order_id
   where l.tenant_id = v.tenant_id and l.vehicle_id = v.id and l.status = 'declined'
  ) as declined,
  (select coalesce({agg}({obj}('id', s.id, 'name', s.name)), '[]') from staff s
   where s.tenant_id = v.tenant_id and s.kind = 'service_advisor' and s.active) as advisors
from vehicle v join customer c on c.tenant_id = v.tenant_id and c.id = v.customer_id
where v.tenant_id = {{}} and v.id = {{}}
"""
JSON_FUNCTIONS = {"postgres": {"agg": "json_agg", "obj": "json_build_object"},
                  "sqlite": {"agg": "json_group_array", "obj": "json_object"}}
_BOOKING_FACTS_SQL = {dialect: BOOKING_FACTS_SQL.format(**functions)
                      for dialect, functions in JSON_FUNCTIONS.items()}


def _moment(value: str | None) -> datetime | None:
    return None if value is None else _utc(datetime.fromisoformat(value))


def booking_facts_sql() -> str:
    """The booking-facts read for this database, `{}` placeholders for the tenant and the
    vehicle: a booking reads it in the same statement as its own state (one round trip),
    and decodes the row with `booking_facts_of`."""
    return _BOOKING_FACTS_SQL["postgres" if db.is_postgres() else "sqlite"]


def booking_facts_of(row: Mapping[str, Any], vehicle_id: uuid.UUID) -> BookingFacts | None:
    """A row of `booking_facts_sql` as facts; None when the vehicle is not this dealer's."""
    if row["customer_id"] is None:
        return None
    declined = [DeclinedWork(
        line_id=uuid.UUID(line["line_id"]), repair_order_id=uuid.UUID(line["repair_order_id"]),
        vehicle_id=vehicle_id, operation_code=line["operation_code"],
        description=line["description"], estimate=Decimal(line["estimate"]),
        declined_at=_moment(line["declined_at"]),  # type: ignore[arg-type]
        followed_up_at=_moment(line["followed_up_at"]),
    ) for line in loaded(row["declined"], [])]
    advisors = [(uuid.UUID(a["id"]), a["name"]) for a in loaded(row["advisors"], [])]
    last, purchase = row["last_advisor"], row["purchase_date"]
    vehicle = {"customer_id": uuid.UUID(str(row["customer_id"])), "vin": row["vin"],
               "plate": row["plate"], "model_code": row["model_code"],
               "purchase_date": date.fromisoformat(purchase) if isinstance(purchase, str)
               else purchase, "open_recalls": list(loaded(row["open_recalls"], []))}
    latitude, longitude = row["home_latitude"], row["home_longitude"]
    return BookingFacts(
        vehicle=vehicle,
        pickup_point=None if latitude is None or longitude is None else (latitude, longitude),
        declined_work=sorted(declined, key=lambda w: w.declined_at, reverse=True),
        last_advisor=None if last is None else uuid.UUID(str(last)),
        advisors=sorted(advisors, key=lambda a: a[1]))


async def booking_facts(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> BookingFacts | None:
    """The vehicle (None if not this dealer's), its declined work newest first, the
    customer's last advisor and the active advisors (by name)."""
    async with tenant_scope(tenant_id, write=False):
        rows = await db.fetch(booking_facts_sql(), require_tenant(), vehicle_id)
    return booking_facts_of(rows[0], vehicle_id) if rows else None


async def visit_timeline(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                         limit: int) -> list[TimelineEntry]:
    entries = []
    for order in await repair_orders_for_customer(tenant_id, customer_id, limit):
        declined = [line for line in order.lines if line.status == "declined"]
        detail = f"{order.total_amount} CNY"
        if order.mileage_km is not None:
            detail += f" · {order.mileage_km} km"
        if declined:
            detail += " · " + ", ".join(f"✗ {line.operation_code}" for line in declined)
        entries.append(TimelineEntry(
            at=order.closed_at or order.opened_at, kind="visit",
            title=label("ro_type", order.ro_type), detail=detail,
            href=f"/repair-orders/{order.id}", status=order.status))
    return entries


register_timeline_source("repair_orders", visit_timeline)
