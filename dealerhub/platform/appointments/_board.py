"""The service department's day board, the calendar export, the customer timeline entry and
the first-maintenance proposal at vehicle sale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments._availability import Availability, NotFoundError, find_slots
from dealerhub.platform.appointments._capacity import Capacity, CapacityError, load_capacity
from dealerhub.platform.appointments._links import book_path
from dealerhub.platform.appointments.schemas import AvailabilityQuery
from dealerhub.platform.appointments.tables import Appointment, Task
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope

BOARD_STATUSES = ("booked", "arrived", "in_service", "ready", "delivered", "no_show")
FIRST_MAINTENANCE_JOB = "FIRST_MAINT"
FIRST_MAINTENANCE_AFTER = timedelta(days=91)  # three months after sale (DOMAIN.md)


@dataclass(frozen=True)
class BoardRow:
    appointment: Appointment
    starts_local: datetime
    unconfirmed: bool
    technician: str
    bay: str
    open_tasks: int


@dataclass(frozen=True)
class BoardGroup:
    advisor_staff_id: uuid.UUID | None
    advisor: str
    rows: list[BoardRow]


@dataclass(frozen=True)
class DayBoard:
    day: date
    zone: str
    groups: list[BoardGroup]
    counts: dict[str, int]


def local_day_bounds(cap: Capacity, day: date) -> tuple[datetime, datetime]:
    return cap.day_bounds(datetime.combine(day, time(12), tzinfo=cap.zone))


async def day_board(tenant_id: uuid.UUID, day: date | None = None) -> DayBoard:
    """A local day's arrivals grouped by advisor; booked and unconfirmed ones flagged."""
    advisors = {advisor.id: advisor.name for advisor in await ports.advisors(tenant_id)}
    async with tenant_scope(tenant_id, write=False):
        cap = await load_capacity(tenant_id)
        day = day or cap.local(datetime.now(UTC)).date()
        start, end = local_day_bounds(cap, day)
        rows = await Appointment.objects_in_tenant().where(
            (Appointment.starts_at >= start) & (Appointment.starts_at < end)
            & (Appointment.status != "cancelled")).order_by(Appointment.starts_at).output(
            load_json=True)
        tasks = await Task.select_in_tenant(Task.appointment_id).where(Task.status == "open")
    task_count: dict[uuid.UUID, int] = {}
    for task in tasks:
        task_count[task["appointment_id"]] = task_count.get(task["appointment_id"], 0) + 1
    groups: dict[uuid.UUID | None, list[BoardRow]] = {}
    counts = dict.fromkeys(BOARD_STATUSES, 0) | {"unconfirmed": 0}
    for row in rows:
        unconfirmed = row.status == "booked" and row.confirmed_at is None
        counts[row.status] = counts.get(row.status, 0) + 1
        counts["unconfirmed"] += unconfirmed
        groups.setdefault(row.advisor_staff_id, []).append(BoardRow(
            row, cap.local(row.starts_at), unconfirmed,
            cap.resource_names.get(row.technician_id, ""),
            cap.resource_names.get(row.bay_id, "") if row.bay_id else "",
            task_count.get(row.id, 0)))
    ordered = sorted(groups.items(), key=lambda item: advisors.get(item[0], "~") if item[0]
                     else "~~")
    return DayBoard(day, cap.zone.key, [
        BoardGroup(advisor_id, advisors.get(advisor_id, "") if advisor_id else "", items)
        for advisor_id, items in ordered], counts)


async def list_appointments(tenant_id: uuid.UUID, start: datetime,
                            end: datetime) -> list[Appointment]:
    async with tenant_scope(tenant_id, write=False):
        return await Appointment.objects_in_tenant().where(
            (Appointment.starts_at >= start) & (Appointment.starts_at < end)).order_by(
            Appointment.starts_at).output(load_json=True)


async def calendar_ics(tenant_id: uuid.UUID, start: datetime, end: datetime) -> bytes:
    """The dealer's appointments as iCalendar (RFC 5545), times in UTC; job codes only,
    no personal data, so the feed can sit in a shared calendar."""
    dealer = await Dealer.select(Dealer.code, Dealer.name).where(Dealer.id == tenant_id).first()
    calendar = Calendar()
    calendar.add("prodid", "-//dealerhub//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{dealer['name'] if dealer else ''} appointments")
    for row in await list_appointments(tenant_id, start, end):
        event = Event()
        event.add("uid", f"{row.id}@dealerhub")
        event.add("dtstamp", row.booked_at.astimezone(UTC))
        event.add("dtstart", row.starts_at.astimezone(UTC))
        event.add("dtend", row.ends_at.astimezone(UTC))
        event.add("summary", f"{' + '.join(row.job_codes)} ({row.status})")
        event.add("status", "CANCELLED" if row.status == "cancelled" else "CONFIRMED")
        event.add("categories", ["rework"] if row.rework else ["service"])
        event.add("sequence", row.reschedule_count)
        calendar.add_component(event)
    return calendar.to_ical()


async def timeline_entries(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                           limit: int) -> list[ports.TimelineEntry]:
    async with tenant_scope(tenant_id, write=False):
        rows = await Appointment.select_in_tenant(
            Appointment.id, Appointment.starts_at, Appointment.status, Appointment.job_codes,
        ).where(Appointment.customer_id == customer_id).order_by(
            Appointment.starts_at, ascending=False).limit(limit).output(load_json=True)
    return [ports.TimelineEntry(at=row["starts_at"], kind="appointment", title="Appointment",
                                detail=" + ".join(row["job_codes"]),
                                href=f"/appointments/{row['id']}", status=row["status"])
            for row in rows]


async def propose_first_maintenance(tenant_id: uuid.UUID, vehicle_id: uuid.UUID,
                                    sold_on: date | None = None,
                                    now: datetime | None = None) -> Availability:
    """At sale: slots around three months after the purchase date for the first service."""
    vehicle = await ports.vehicle(tenant_id, vehicle_id)
    sold = sold_on or (vehicle.purchase_date if vehicle and vehicle.purchase_date else None) \
        or datetime.now(UTC).date()
    preferred = datetime.combine(sold + FIRST_MAINTENANCE_AFTER, time(9, 0))
    return await find_slots(tenant_id, AvailabilityQuery(
        vehicle_id=vehicle_id, preferred_at=preferred, job_codes=[FIRST_MAINTENANCE_JOB],
        limit=10), now=now)



FIRST_MAINTENANCE_TEMPLATE = "appointment.first_maintenance"
FIRST_MAINTENANCE_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    FIRST_MAINTENANCE_TEMPLATE: {
        "zh-CN": ("首次保养预约建议",
                  "{{ customer_name }}您好，感谢您在{{ dealer_name }}购车。您的爱车首次保养建议在"
                  "{{ proposed_local }}进行，一键预约（也可选择其他时间）：{{ book_url }}"),
        "en": ("Your first maintenance",
               "Hello {{ customer_name }}, thank you for buying your car at {{ dealer_name }}. "
               "We propose its first maintenance on {{ proposed_local }}. Book it (or pick "
               "another time): {{ book_url }}"),
    },
}


async def invite_first_maintenance(tenant_id: uuid.UUID, vehicle_id: uuid.UUID,
                                   customer_id: uuid.UUID, sold_on: date,
                                   now: datetime | None = None) -> str | None:
    """On `vehicle.sold`: the proposal three months after the sale, sent with a signed
    booking link opening on that day through the customer's preferred channel (consent
    decided by the channels). Nothing is held: the customer books from the link. No
    proposal (None) when that day has passed or the dealer does not offer the job."""
    moment = now or datetime.now(UTC)
    if sold_on + FIRST_MAINTENANCE_AFTER <= moment.date():
        return None
    try:
        found = await propose_first_maintenance(tenant_id, vehicle_id, sold_on, now=moment)
    except (CapacityError, NotFoundError):
        return None
    async with tenant_scope(tenant_id, write=False):
        cap = await load_capacity(tenant_id)
    local = cap.local(found.proposed.starts_at if found.proposed else found.window_start)
    link = f"{book_path(tenant_id, vehicle_id)}?day={local.date().isoformat()}"
    return await ports.enqueue_message(
        tenant_id, customer_id, FIRST_MAINTENANCE_TEMPLATE,
        {"dealer_name": cap.name, "proposed_local": local.strftime("%Y-%m-%d %H:%M"),
         "book_url": get_settings().public_base_url.rstrip("/") + link},
        related={"vehicle_id": str(vehicle_id)},
        idempotency_key=f"first-maintenance:{vehicle_id}")
