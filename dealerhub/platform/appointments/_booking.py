"""Booking, rescheduling, cancelling, confirming and the service-day status flow.

A booking re-checks capacity inside its write transaction and inserts one hold row per
(resource, 15-minute cell). The unique key (tenant_id, resource_id, slot_start) is what
makes double booking impossible on PostgreSQL, where two transactions can race past the
check; on SQLite the IMMEDIATE write transaction already serialises them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar

import asyncpg
import msgspec

from dealerhub.platform import db, events
from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments._availability import (
    BUSY_SQL,
    CELLS_SQL,
    Assignment,
    Availability,
    Busy,
    Need,
    NotFoundError,
    assign,
    aware,
    busy_cells,
    busy_span,
    cells,
    customer_context_of,
    db_time,
    dialect,
    earliest_start,
    find_slots,
    least_booked,
    load_busy,
    need_for,
    pickup_point,
    pickup_terms,
)
from dealerhub.platform.appointments._capacity import (
    Capacity,
    CapacityError,
    capacity,
    load_capacity,
)
from dealerhub.platform.appointments._reminders import (
    cancel_reminders,
    reminder_rows,
    schedule_reminders,
)
from dealerhub.platform.appointments.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AvailabilityQuery,
    appointment_read,
)
from dealerhub.platform.appointments.tables import Appointment, Hold, IdempotencyKey, Reminder
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import insert_rows, require_tenant, tenant_scope

NEXT_STATUS = {"booked": {"arrived", "no_show"}, "arrived": {"in_service"},
               "in_service": {"ready"}, "ready": {"delivered"}}
STATUS_TIME = {"arrived": Appointment.arrived_at, "in_service": Appointment.in_service_at,
               "ready": Appointment.ready_at, "delivered": Appointment.delivered_at,
               "no_show": Appointment.no_show_at}
STATUS_EVENT = {"arrived": "appointment.arrived", "no_show": "appointment.no_show",
                "delivered": "appointment.completed"}
CHANNELS = frozenset({"portal", "api", "self_service", "sale"})
# How the customer asked when the request does not say: a portal booking is an advisor or
# CS agent taking a call.
REQUEST_CHANNEL_OF = {"portal": "phone", "api": "api", "self_service": "self_service",
                      "sale": "sale"}
# A unique-key collision on a bay, loaner or driver picked by a concurrent booking is retried
# on fresh data; a technician time that is really gone then fails the capacity check.
WRITE_ATTEMPTS = 5
T = TypeVar("T")


class SlotTaken(Exception):
    """The time has no free capacity (any more); nothing was booked."""


class StateError(Exception):
    """The appointment's status does not allow the change; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def is_unique_violation(error: BaseException) -> bool:
    return isinstance(error, asyncpg.UniqueViolationError) or (
        isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error))


@cache
def _appointment_defaults() -> dict[str, Any]:
    return Appointment().to_dict()


def new_appointment(**values: Any) -> SimpleNamespace:
    """A new appointment's column values with attribute access, defaults filled in: a
    Piccolo instance (defaults, descriptors, `to_dict`) cost about a millisecond of a
    booking's CPU. Every JSON column is given, so no mutable default is shared."""
    return SimpleNamespace(**{**_appointment_defaults(), "id": uuid.uuid4(), **values})


def event_payload(row: Appointment | SimpleNamespace, **extra: Any) -> dict[str, Any]:
    """Ids and the timestamps process-metric scoring needs; never personal data."""
    return {
        "appointment_id": row.id, "customer_id": row.customer_id, "vehicle_id": row.vehicle_id,
        "advisor_staff_id": row.advisor_staff_id, "channel": row.channel,
        "request_channel": row.request_channel, "status": row.status,
        "rework": row.rework, "request_received_at": row.request_received_at,
        "first_response_at": row.first_response_at, "booked_at": row.booked_at,
        "starts_at": row.starts_at, "arrived_at": row.arrived_at,
        "delivered_at": row.delivered_at, "no_show_at": row.no_show_at,
        "cancelled_at": row.cancelled_at, **extra,
    }


async def load(appointment_id: uuid.UUID) -> Appointment | None:
    """An appointment of the current scope's dealer, JSON columns decoded."""
    return await Appointment.objects_in_tenant().where(
        Appointment.id == appointment_id).output(load_json=True).first()


async def get_appointment(tenant_id: uuid.UUID, appointment_id: uuid.UUID) -> Appointment | None:
    async with tenant_scope(tenant_id, write=False):
        return await load(appointment_id)


def check_start(cap: Capacity, starts_at: datetime, need: Need, now: datetime) -> None:
    if starts_at <= now:
        raise CapacityError("starts_at", "is in the past")
    if starts_at < earliest_start(cap, need, now):
        raise CapacityError("pickup", f"a pick-up needs {cap.pickup} before the start time")
    problem = cap.opening_problem(starts_at, need.minutes)
    if problem is not None:
        raise problem


def hold_rows(cap: Capacity, appointment_id: uuid.UUID,
              assignment: Assignment) -> list[dict[str, Any]]:
    """One row per (resource, cell) the assignment occupies (rows for `insert_rows`; the
    id is the column's default)."""
    return [{"appointment_id": appointment_id, "resource_id": resource,
             "slot_start": datetime.fromtimestamp(cell, UTC)}
            for resource, cell in assignment.holds(cap)]


async def _load_booked(appointment_id: uuid.UUID, change: str) -> Appointment | None:
    """The appointment, refused (field `status`) unless still booked: only a booked one can
    be moved, cancelled or confirmed."""
    row = await load(appointment_id)
    if row is not None and row.status != "booked":
        raise StateError("status", f"a {row.status} appointment cannot be {change}")
    return row


async def _release(appointment_id: uuid.UUID) -> None:
    await Hold.delete_in_tenant().where(Hold.appointment_id == appointment_id)


def _assignment(cap: Capacity, need: Need, starts_at: datetime, busy: Busy,
                technician_id: uuid.UUID | None, attempt: int = 0) -> Assignment:
    technicians = cap.technicians
    if technician_id is not None:
        technicians = [t for t in cap.technicians if t.id == technician_id]
        if not technicians:
            raise NotFoundError("technician_id", "no such technician at this dealer")
    found, reason = assign(cap, busy, need, starts_at, technicians, spread=attempt)
    if found is None:
        raise SlotTaken(reason)
    return found


@dataclass(frozen=True)
class Booking:
    appointment: AppointmentRead
    replayed: bool


def _fingerprint(data: AppointmentCreate, channel: str) -> str:
    return hashlib.sha256(channel.encode() + msgspec.json.encode(data)).hexdigest()


def _replayed(seen: dict[str, Any], fingerprint: str) -> Booking:
    if seen["request_hash"] != fingerprint:
        raise CapacityError("Idempotency-Key", "was already used for a different booking")
    return Booking(msgspec.convert(seen["response"], AppointmentRead), replayed=True)


async def _replay(tenant_id: uuid.UUID, key: str, fingerprint: str) -> Booking | None:
    async with tenant_scope(tenant_id, write=False):
        seen = await IdempotencyKey.select_in_tenant(
            IdempotencyKey.request_hash, IdempotencyKey.response,
        ).where(IdempotencyKey.key == key).output(load_json=True).first()
    return None if seen is None else _replayed(seen, fingerprint)


async def _retrying(write: Callable[[int], Awaitable[T]],
                    on_collision: Callable[[], Awaitable[T | None]] | None = None) -> T:
    """Run a write transaction; a unique-key collision (a concurrent booking took a hold
    first) is retried on fresh data, so only a time that is really gone is refused."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return await write(attempt)
        except Exception as error:
            if not is_unique_violation(error):
                raise
            if on_collision is not None and (answer := await on_collision()) is not None:
                return answer
    raise SlotTaken("that time was just taken by another booking")


async def book(tenant_id: uuid.UUID, data: AppointmentCreate, *, channel: str, actor: str,
               idempotency_key: str | None = None, now: datetime | None = None) -> Booking:
    """Book one appointment; with an idempotency key a retry returns the first result."""
    if channel not in CHANNELS:
        raise CapacityError("channel", f"unknown booking channel {channel!r}")
    now = now or datetime.now(UTC)
    fingerprint = _fingerprint(data, channel)

    async def write(attempt: int) -> Booking:
        return await _write_booking(
            tenant_id, data, channel=channel, actor=actor, idempotency_key=idempotency_key,
            fingerprint=fingerprint, now=now, attempt=attempt)

    async def replay() -> Booking | None:
        """A concurrent request with the same key won: answer with its result."""
        return await _replay(tenant_id, idempotency_key, fingerprint) if idempotency_key else None

    return await _retrying(write, replay)


# What a booking reads, in one statement: of its own tables the first result of its
# idempotency key, the held cells around the start and the advisors of that day's
# appointments (for the least-booked advisor); and the customer base's booking facts, whose
# SQL the customer-base service gives (`ports.booking_context_sql`). Dialect pieces as in
# `_availability`.
STATE_SQL = (
    "select (select {obj}('request_hash', request_hash, 'response', {response}) "
    "from appointment_idempotency where tenant_id = {{}} and key = {{}}) as replay, "
    "(select {agg}({arr}(resource_id, cells)) from (" + BUSY_SQL + ") busy) as busy, "
    "(select {agg}(advisor_staff_id) from appointment where tenant_id = {{}} "
    "and starts_at >= {{}} and starts_at < {{}} and status <> 'cancelled' "
    "and advisor_staff_id is not null) as day_advisors, "
    "facts.* from (select 1) one left join ({facts}) facts on 1 = 1"
)
STATE_DIALECT = {
    "postgres": {"obj": "json_build_object", "agg": "json_agg", "arr": "json_build_array",
                 "response": "response", "cells": CELLS_SQL["postgres"]},
    "sqlite": {"obj": "json_object", "agg": "json_group_array", "arr": "json_array",
               "response": "json(response)", "cells": CELLS_SQL["sqlite"]},
}


# Held cells per resource (PostgreSQL aggregates them into a list, SQLite into comma-joined
# text) and the day's advisors, decoded straight into UUIDs: a busy dealer's cells were a
# large share of a booking's CPU through `json.loads` and `uuid.UUID(str)`.
_BUSY = msgspec.json.Decoder(list[tuple[uuid.UUID, list[int] | str]])
_ADVISORS = msgspec.json.Decoder(list[uuid.UUID])


@cache
def _state_sql(dialect_name: str) -> str:
    return STATE_SQL.format(**STATE_DIALECT[dialect_name], facts=ports.booking_context_sql())


@dataclass(frozen=True)
class BookingState:
    replay: dict[str, Any] | None
    busy: Busy
    day_advisors: list[uuid.UUID]
    customer: dict[str, Any]  # the customer base's row: decode with `customer_context_of`


def held_span(cap: Capacity, need: Need, starts_at: datetime) -> tuple[datetime, datetime]:
    """From the first cell a booking at `starts_at` can hold (the pick-up driver's, before
    the start) to the end of its work and buffer: holds outside cannot be in its way."""
    first = cells(starts_at - cap.pickup if need.pickup else starts_at, starts_at).start
    return (datetime.fromtimestamp(first, UTC),
            starts_at + timedelta(minutes=need.minutes) + cap.buffer)


async def _booking_state(cap: Capacity, need: Need, starts_at: datetime,
                         idempotency_key: str | None, vehicle_id: uuid.UUID) -> BookingState:
    tenant_id = require_tenant()
    held_start, held_end = held_span(cap, need, starts_at)
    day_start, day_end = cap.day_bounds(starts_at)
    (row,) = await db.fetch(
        _state_sql(dialect()), tenant_id, idempotency_key, tenant_id, db_time(held_start),
        db_time(held_end), tenant_id, db_time(day_start), db_time(day_end), tenant_id,
        vehicle_id)
    return BookingState(
        replay=loaded(row["replay"]),
        busy=busy_cells(_BUSY.decode(row["busy"])) if row["busy"] else {},
        day_advisors=_ADVISORS.decode(row["day_advisors"]) if row["day_advisors"] else [],
        customer=row)


def loaded(value: Any) -> Any:
    """A JSON expression's value: both drivers return it as text."""
    return None if value is None else json.loads(value)


async def _write_booking(tenant_id: uuid.UUID, data: AppointmentCreate, *, channel: str,
                         actor: str, idempotency_key: str | None, fingerprint: str,
                         now: datetime, attempt: int) -> Booking:
    """The booking transaction: one read of the booking's own state and the customer base's
    facts (a replayed key answers at once), then the appointment, its holds, reminders, event
    and idempotency key as one statement. A hold another booking took first is a unique
    violation: the caller retries on fresh data."""
    intake = msgspec.to_builtins(data.intake)
    async with tenant_scope(tenant_id, generic_plans=True):
        cap = await load_capacity(tenant_id)
        need = need_for(cap, data.job_codes, data.intake.problem, mobile=data.mobile,
                        loaner=data.loaner, pickup=data.pickup)
        starts_at = aware(data.starts_at, cap)
        state = await _booking_state(cap, need, starts_at, idempotency_key, data.vehicle_id)
        if state.replay is not None:
            return _replayed(state.replay, fingerprint)
        context = customer_context_of(state.customer, data.vehicle_id)
        check_start(cap, starts_at, need, now)
        found = _assignment(cap, need, starts_at, state.busy, data.technician_id, attempt)
        pickup = pickup_terms(cap, data.rework, pickup_point(
            data.intake.pickup_latitude, data.intake.pickup_longitude, context))
        row = new_appointment(
            customer_id=context.vehicle.customer_id, vehicle_id=data.vehicle_id,
            advisor_staff_id=data.advisor_staff_id
            or least_booked(context, state.day_advisors),
            technician_id=found.technician_id, bay_id=found.bay_id,
            loaner_id=found.loaner_id, driver_id=found.driver_id,
            starts_at=found.starts_at, ends_at=found.ends_at, status="booked",
            channel=channel, request_channel=data.request_channel or REQUEST_CHANNEL_OF[channel],
            job_codes=need.codes, intake=intake,
            estimate_minutes=need.minutes, estimate_labour_fen=need.labour_fen,
            estimate_parts_fen=need.parts_fen, rework=data.rework, quick=need.quick,
            mobile=need.mobile, loaner=need.loaner, pickup=need.pickup,
            pickup_free=need.pickup and pickup.free, pickup_distance_km=pickup.distance_km,
            recalls=context.vehicle.open_recalls, declined_offered=context.declined_work,
            booked_by=actor[:254], request_received_at=aware(data.request_received_at, cap)
            if data.request_received_at else now,
            first_response_at=aware(data.first_response_at, cap)
            if data.first_response_at else now,
            booked_at=now,
        )
        result = appointment_read(row)
        key = [{"id": uuid.uuid4(), "key": idempotency_key, "request_hash": fingerprint,
                "appointment_id": row.id, "response": msgspec.to_builtins(result),
                "created_at": now}] if idempotency_key else []
        await insert_rows(
            (Appointment, [vars(row)]), (Hold, hold_rows(cap, row.id, found)),
            (Reminder, reminder_rows(row.id, row.starts_at, now)),
            (EventOutbox, [events.outbox_values("appointment.booked", event_payload(row))]),
            (IdempotencyKey, key))
    return Booking(result, replayed=False)


async def reschedule(tenant_id: uuid.UUID, appointment_id: uuid.UUID, starts_at: datetime, *,
                     actor: str, now: datetime | None = None) -> Appointment | None:
    """Move a booked appointment; its holds and reminders are replaced in one transaction,
    so a refused move leaves the old booking exactly as it was."""
    moment = now or datetime.now(UTC)
    return await _retrying(lambda attempt: _move(tenant_id, appointment_id, starts_at,
                                                 actor=actor, now=moment, attempt=attempt))


async def _move(tenant_id: uuid.UUID, appointment_id: uuid.UUID, starts_at: datetime, *,
                actor: str, now: datetime, attempt: int) -> Appointment | None:
    async with tenant_scope(tenant_id):
        row = await _load_booked(appointment_id, "rescheduled")
        if row is None:
            return None
        cap = await load_capacity(tenant_id)
        need = need_for(cap, row.job_codes, "", mobile=row.mobile, loaner=row.loaner,
                        pickup=row.pickup)
        new_start = aware(starts_at, cap)
        check_start(cap, new_start, need, now)
        previous = row.starts_at
        await _release(row.id)
        busy = await load_busy(*busy_span(cap, need, new_start, new_start))
        found = _assignment(cap, need, new_start, busy, None, attempt)
        await insert_rows((Hold, hold_rows(cap, row.id, found)))
        await Appointment.update_in_tenant({
            Appointment.starts_at: found.starts_at, Appointment.ends_at: found.ends_at,
            Appointment.technician_id: found.technician_id, Appointment.bay_id: found.bay_id,
            Appointment.loaner_id: found.loaner_id, Appointment.driver_id: found.driver_id,
            Appointment.confirmed_at: None,
            Appointment.reschedule_count: row.reschedule_count + 1,
        }).where(Appointment.id == row.id)
        await schedule_reminders(row.id, found.starts_at, now)
        row = await load(row.id)
        assert row is not None
        await events.emit("appointment.rescheduled", event_payload(
            row, previous_starts_at=previous, rescheduled_at=now, actor_kind=actor[:32]))
        return row


async def cancel(tenant_id: uuid.UUID, appointment_id: uuid.UUID, *, reason: str = "",
                 now: datetime | None = None) -> Appointment | None:
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        row = await _load_booked(appointment_id, "cancelled")
        if row is None:
            return None
        await _release(row.id)
        await cancel_reminders(row.id)
        await Appointment.update_in_tenant({
            Appointment.status: "cancelled", Appointment.cancelled_at: now,
            Appointment.cancel_reason: reason[:200]}).where(Appointment.id == row.id)
        row = await load(row.id)
        assert row is not None
        await events.emit("appointment.cancelled", event_payload(row))
        return row


async def confirm(tenant_id: uuid.UUID, appointment_id: uuid.UUID,
                  now: datetime | None = None) -> Appointment | None:
    """The customer's one-tap confirmation; confirming twice keeps the first time."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        row = await _load_booked(appointment_id, "confirmed")
        if row is None:
            return None
        if row.confirmed_at is None:
            await Appointment.update_in_tenant({Appointment.confirmed_at: now}).where(
                Appointment.id == row.id)
            row.confirmed_at = now
        return row


async def _transition(row: Appointment, status: str, now: datetime) -> Appointment:
    if status not in NEXT_STATUS.get(row.status, set()):
        raise StateError("status", f"cannot go from {row.status} to {status}")
    await Appointment.update_in_tenant(
        {Appointment.status: status, STATUS_TIME[status]: now}).where(Appointment.id == row.id)
    if status == "no_show":
        await _release(row.id)
    if status in ("arrived", "no_show"):
        await cancel_reminders(row.id)
    fresh = await load(row.id)
    assert fresh is not None
    if status in STATUS_EVENT:
        await events.emit(STATUS_EVENT[status], event_payload(fresh))
    return fresh


async def change_status(tenant_id: uuid.UUID, appointment_id: uuid.UUID, status: str,
                        now: datetime | None = None) -> Appointment | None:
    """booked → arrived → in_service → ready → delivered, or booked → no_show."""
    async with tenant_scope(tenant_id):
        row = await load(appointment_id)
        if row is None:
            return None
        return await _transition(row, status, now or datetime.now(UTC))


async def reschedule_options(tenant_id: uuid.UUID, appointment_id: uuid.UUID, day: date,
                             now: datetime | None = None) -> Availability | None:
    """Slots for moving an appointment, from the start of a local day to the next."""
    row = await get_appointment(tenant_id, appointment_id)
    if row is None:
        return None
    cap = await capacity(tenant_id)
    return await find_slots(tenant_id, AvailabilityQuery(
        vehicle_id=row.vehicle_id, preferred_at=datetime.combine(day, time(0), tzinfo=cap.zone),
        job_codes=list(row.job_codes), loaner=row.loaner, pickup=row.pickup, mobile=row.mobile,
        rework=row.rework, pickup_latitude=row.intake.get("pickup_latitude"),
        pickup_longitude=row.intake.get("pickup_longitude"), limit=200), now=now)


def repair_order_intake(row: Appointment) -> dict[str, Any]:
    """What the advisor would otherwise re-ask: the intake, jobs, recalls and estimate."""
    return {**row.intake, "job_codes": list(row.job_codes), "open_recalls": list(row.recalls),
            "estimate_minutes": row.estimate_minutes,
            "estimate_total_fen": row.estimate_labour_fen + row.estimate_parts_fen,
            "rework": row.rework, "loaner": row.loaner, "pickup": row.pickup}


async def arrival_to_repair_order(tenant_id: uuid.UUID, appointment_id: uuid.UUID, *,
                                  mileage_km: int | None = None,
                                  now: datetime | None = None) -> Appointment | None:
    """One click on the day board: mark the arrival (if not yet) and open the repair order
    with the intake carried over. Opening twice returns the first repair order."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        row = await load(appointment_id)
        if row is None or row.repair_order_id is not None:
            return row
        if row.status == "booked":
            row = await _transition(row, "arrived", now)
        elif row.status not in ("arrived", "in_service"):
            raise StateError("status", f"a {row.status} appointment cannot become a repair order")
        ro_type = "rework" if row.rework else ("repair" if row.intake.get("problem") else
                                                "maintenance")
        repair_order_id = await ports.open_repair_order(
            tenant_id, vehicle_id=row.vehicle_id, customer_id=row.customer_id,
            advisor_staff_id=row.advisor_staff_id, opened_at=now, mileage_km=mileage_km,
            ro_type=ro_type, intake=repair_order_intake(row), appointment_id=row.id)
        await Appointment.update_in_tenant({Appointment.repair_order_id: repair_order_id}).where(
            Appointment.id == row.id)
        row.repair_order_id = repair_order_id
        return row
