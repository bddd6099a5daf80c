"""The appointments tables: each dealer's capacity model, its appointments, the 15-minute
holds that make double booking impossible, reminder due rows, CS tasks and idempotency keys.

Every time is stored in UTC; wall-clock values (opening hours, shifts) are in the dealer's
time zone and only ever combined with a date through `zoneinfo`.
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Date,
    Float,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable

WEEKDAYS = ("0", "1", "2", "3", "4", "5", "6")  # Monday = "0", as `date.weekday()`
DEFAULT_HOURS = {day: ["08:30", "18:00"] for day in WEEKDAYS[:6]} | {"6": ["09:00", "17:00"]}


class CapacitySettings(TenantTable, tablename="appointment_settings"):
    """One row per dealer: opening hours by weekday (local "HH:MM"), the slot grid, the
    buffer kept free after every job for overruns, pick-up rules."""

    opening_hours = JSONB(default=DEFAULT_HOURS)
    slot_minutes = Integer(default=15)
    buffer_minutes = Integer(default=15)
    pickup_minutes = Integer(default=60)
    free_pickup_km = Float(default=10.0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Holiday(TenantTable, tablename="appointment_holiday"):
    day = Date()
    name = Varchar(length=100, default="")


class Resource(TenantTable, tablename="appointment_resource"):
    """A bay (`bay`, or `quick_bay` for the quick-service lane), a loaner car or a
    pick-up/drop-off driver: anything an appointment holds for its time."""

    kind = Varchar(length=16)
    name = Varchar(length=100)
    active = Boolean(default=True)


class Technician(TenantTable, tablename="appointment_technician"):
    name = Varchar(length=100)
    staff_id = UUID(null=True, default=None)  # the technician's staff record, if kept
    skills = JSONB(default=[])
    shifts = JSONB(default={})  # weekday -> ["HH:MM", "HH:MM"] local
    active = Boolean(default=True)


class ServiceJob(TenantTable, tablename="appointment_job"):
    """The dealer's service catalogue; `quick` is derived (30 minutes or less)."""

    code = Varchar(length=32)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100)
    duration_minutes = Integer()
    labour_price_fen = Integer(default=0)
    parts_price_fen = Integer(default=0)
    skill = Varchar(length=32)
    quick = Boolean(default=False)
    mobile = Boolean(default=False)
    keywords = JSONB(default=[])
    active = Boolean(default=True)


class Appointment(TenantTable, tablename="appointment"):
    customer_id = UUID()
    vehicle_id = UUID()
    advisor_staff_id = UUID(null=True, default=None)
    technician_id = UUID()
    bay_id = UUID(null=True, default=None)
    loaner_id = UUID(null=True, default=None)
    driver_id = UUID(null=True, default=None)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    status = Varchar(length=16, default="booked")
    channel = Varchar(length=16)  # where it was booked: portal, api, self_service, sale
    request_channel = Varchar(length=16, default="")  # how the customer asked: phone, sms, …
    job_codes = JSONB(default=[])
    intake = JSONB(default={})
    estimate_minutes = Integer(default=0)
    estimate_labour_fen = Integer(default=0)
    estimate_parts_fen = Integer(default=0)
    rework = Boolean(default=False)
    quick = Boolean(default=False)
    mobile = Boolean(default=False)
    loaner = Boolean(default=False)
    pickup = Boolean(default=False)
    pickup_free = Boolean(default=False)
    pickup_distance_km = Float(null=True, default=None)
    recalls = JSONB(default=[])
    declined_offered = JSONB(default=[])
    booked_by = Varchar(length=254, default="")
    request_received_at = Timestamptz(default=TimestamptzNow())
    first_response_at = Timestamptz(null=True, default=None)
    booked_at = Timestamptz(default=TimestamptzNow())
    confirmed_at = Timestamptz(null=True, default=None)
    arrived_at = Timestamptz(null=True, default=None)
    in_service_at = Timestamptz(null=True, default=None)
    ready_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    no_show_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Varchar(length=200, default="")
    reschedule_count = Integer(default=0)
    repair_order_id = UUID(null=True, default=None)


class Hold(TenantTable, tablename="appointment_hold"):
    """One resource (technician, bay, loaner, driver) held for one grid slot.

    The unique key (tenant_id, resource_id, slot_start) is the concurrency guarantee: two
    bookings can never both commit a hold on the same technician time, on any database.
    """

    appointment_id = UUID()
    resource_id = UUID()
    slot_start = Timestamptz()


class Reminder(TenantTable, tablename="appointment_reminder"):
    """A reminder due at a time (`72h`, `24h`): pending → sent | cancelled | skipped."""

    appointment_id = UUID()
    kind = Varchar(length=8)
    due_at = Timestamptz()
    status = Varchar(length=16, default="pending")
    sent_at = Timestamptz(null=True, default=None)
    message_ref = Varchar(length=100, default="")


class Task(TenantTable, tablename="appointment_task"):
    """Work for the CS agent, such as a customer's reply asking to reschedule."""

    appointment_id = UUID()
    customer_id = UUID()
    kind = Varchar(length=32)
    status = Varchar(length=16, default="open")
    note = Text(default="")
    source_event_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None)


class IdempotencyKey(TenantTable, tablename="appointment_idempotency"):
    """An `Idempotency-Key` seen on a booking and the first response it produced."""

    key = Varchar(length=200)
    request_hash = Varchar(length=64)
    appointment_id = UUID()
    response = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [CapacitySettings, Holiday, Resource, Technician, ServiceJob, Appointment, Hold,
          Reminder, Task, IdempotencyKey]
