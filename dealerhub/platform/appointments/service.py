"""The appointments service: what routes, tasks and other components call. No HTTP here.

The rules live in the `_part.py` modules this file re-exports:
`_capacity` (the capacity model), `_availability` (slot search), `_booking` (book,
reschedule, cancel, status flow, arrival → repair order), `_reminders` (due rows, CS
tasks), `_board` (day board, iCalendar, timeline, first maintenance), `_links`.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta

from dealerhub.platform.appointments._availability import (
    Availability,
    NotFoundError,
    find_slots,
    haversine_km,
)
from dealerhub.platform.appointments._board import (
    FIRST_MAINTENANCE_TEMPLATES,
    DayBoard,
    calendar_ics,
    day_board,
    invite_first_maintenance,
    list_appointments,
    propose_first_maintenance,
    timeline_entries,
)
from dealerhub.platform.appointments._booking import (
    Booking,
    SlotTaken,
    StateError,
    arrival_to_repair_order,
    book,
    cancel,
    change_status,
    confirm,
    get_appointment,
    reschedule,
    reschedule_options,
)
from dealerhub.platform.appointments._capacity import (
    Capacity,
    CapacityError,
    CapacityOverview,
    add_holiday,
    add_job,
    add_resource,
    add_technician,
    capacity,
    overview,
    remove_holiday,
    set_active,
    update_settings,
)
from dealerhub.platform.appointments._links import (
    LinkTarget,
    book_path,
    manage_path,
    read_target,
)
from dealerhub.platform.appointments._reminders import (
    REMINDER_TEMPLATES,
    claim_due_reminders,
    close_task,
    open_reschedule_task,
    open_tasks,
    reply_intent,
)

__all__ = [
    "TEMPLATES",
    "Availability",
    "Booking",
    "Capacity",
    "CapacityError",
    "CapacityOverview",
    "DayBoard",
    "LinkTarget",
    "NotFoundError",
    "SlotTaken",
    "StateError",
    "add_holiday",
    "add_job",
    "add_resource",
    "add_technician",
    "arrival_to_repair_order",
    "book",
    "book_path",
    "calendar_ics",
    "cancel",
    "capacity",
    "change_status",
    "claim_due_reminders",
    "close_task",
    "confirm",
    "day_board",
    "find_slots",
    "forecast_free_minutes",
    "get_appointment",
    "haversine_km",
    "invite_first_maintenance",
    "list_appointments",
    "manage_path",
    "open_reschedule_task",
    "open_tasks",
    "overview",
    "propose_first_maintenance",
    "read_target",
    "remove_holiday",
    "reply_intent",
    "reschedule",
    "reschedule_options",
    "set_active",
    "timeline_entries",
    "update_settings",
]

# The channel templates appointments send: reminders and the first-maintenance proposal.
TEMPLATES = REMINDER_TEMPLATES | FIRST_MAINTENANCE_TEMPLATES


async def forecast_free_minutes(tenant_id: uuid.UUID, first_day: date,
                                days: int) -> dict[date, int]:
    """Technician minutes still unbooked on each of the dealer's next `days` local days
    (closed days and holidays are 0). Campaigns throttle their invitations with it."""
    cap = await capacity(tenant_id)
    start = datetime.combine(first_day, time(0), tzinfo=cap.zone)
    booked = await list_appointments(tenant_id, start.astimezone(UTC),
                                     (start + timedelta(days=days)).astimezone(UTC))
    free: dict[date, int] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        hours = cap.hours.get(day.weekday())
        free[day] = 0
        if hours is None or day in cap.holidays:
            continue
        for tech in cap.technicians:
            shift = tech.shifts.get(day.weekday())
            if shift is not None:
                begin, end = max(shift[0], hours[0]), min(shift[1], hours[1])
                free[day] += max(0, (end.hour * 60 + end.minute) - (begin.hour * 60 + begin.minute))
    for row in booked:
        day = row.starts_at.astimezone(cap.zone).date()
        if day in free and row.status not in ("cancelled", "no_show"):
            used = int((row.ends_at - row.starts_at).total_seconds() // 60)
            free[day] = max(0, free[day] - used)
    return free
