"""The appointments service: what routes, tasks and other components call. No HTTP here.

The rules live in the `_part.py` modules this file re-exports:
`_capacity` (the capacity model), `_availability` (slot search), `_booking` (book,
reschedule, cancel, status flow, arrival → repair order), `_reminders` (due rows, CS
tasks), `_board` (day board, iCalendar, timeline, first maintenance), `_links`.
"""

from dealerhub.platform.appointments._availability import (
    Availability,
    NotFoundError,
    find_slots,
    haversine_km,
)
from dealerhub.platform.appointments._board import (
    DayBoard,
    calendar_ics,
    day_board,
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
    TEMPLATES,
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
    "get_appointment",
    "haversine_km",
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
