"""Request and response types of the appointments API and pages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from dealerhub.platform.web.api import StrictStruct

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]
JobCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
ResourceKind = Literal["bay", "quick_bay", "loaner", "driver"]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Intake(StrictStruct):
    """Repair intake: what, where, which noise, how often, under which conditions;
    plus where to pick the car up."""

    problem: Text2000 = ""
    location: Text200 = ""
    noise: Text200 = ""
    frequency: Text200 = ""
    conditions: Text200 = ""
    pickup_address: Text200 = ""
    pickup_latitude: Latitude | None = None
    pickup_longitude: Longitude | None = None


class AvailabilityQuery(StrictStruct):
    vehicle_id: uuid.UUID
    preferred_at: datetime
    job_codes: list[JobCode] = msgspec.field(default_factory=list)
    problem: Text2000 = ""
    loaner: bool = False
    pickup: bool = False
    mobile: bool = False
    rework: bool = False
    pickup_latitude: Latitude | None = None
    pickup_longitude: Longitude | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20


RequestChannel = Literal["phone", "sms", "email", "wechat", "walk_in", "self_service", "api",
                         "sale"]


class AppointmentCreate(StrictStruct):
    vehicle_id: uuid.UUID
    starts_at: datetime
    job_codes: list[JobCode] = msgspec.field(default_factory=list)
    intake: Intake = msgspec.field(default_factory=Intake)
    loaner: bool = False
    pickup: bool = False
    mobile: bool = False
    rework: bool = False
    technician_id: uuid.UUID | None = None
    advisor_staff_id: uuid.UUID | None = None
    request_received_at: datetime | None = None
    first_response_at: datetime | None = None
    # How the customer asked (scoring's response SLA: e-mail 30 min, SMS 60 min); without
    # it, what the booking channel implies (`REQUEST_CHANNEL_OF`).
    request_channel: RequestChannel | None = None


class AppointmentReschedule(StrictStruct):
    starts_at: datetime


class AppointmentCancel(StrictStruct):
    reason: Text200 = ""


class StatusChange(StrictStruct):
    status: Literal["arrived", "in_service", "ready", "delivered", "no_show"]


class ArrivalToRepairOrder(StrictStruct):
    mileage_km: Annotated[int, msgspec.Meta(ge=0, le=2_000_000)] | None = None


class FirstMaintenanceQuery(StrictStruct):
    vehicle_id: uuid.UUID


class SettingsUpdate(StrictStruct):
    opening_hours: dict[str, list[HHMM] | None] | None = None
    slot_minutes: Literal[5, 10, 15, 20, 30, 60] | None = None
    buffer_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] | None = None
    pickup_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] | None = None
    free_pickup_km: Annotated[float, msgspec.Meta(ge=0, le=500)] | None = None


class HolidayCreate(StrictStruct):
    day: date
    name: Text200 = ""


class ResourceCreate(StrictStruct):
    kind: ResourceKind
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TechnicianCreate(StrictStruct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    skills: list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]]
    shifts: dict[str, list[HHMM] | None]
    staff_id: uuid.UUID | None = None


class JobCreate(StrictStruct):
    code: JobCode
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    duration_minutes: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)]
    skill: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    labour_price_fen: Annotated[int, msgspec.Meta(ge=0)] = 0
    parts_price_fen: Annotated[int, msgspec.Meta(ge=0)] = 0
    mobile: bool = False
    keywords: list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]] = msgspec.field(
        default_factory=list)


class EstimateRead(msgspec.Struct):
    minutes: int
    labour_fen: int
    parts_fen: int
    total_fen: int


class SlotRead(msgspec.Struct):
    starts_at: datetime
    ends_at: datetime
    technician_id: uuid.UUID
    bay_id: uuid.UUID | None
    loaner_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    advisor_staff_id: uuid.UUID | None


class AvailabilityRead(msgspec.Struct):
    job_codes: list[str]
    estimate: EstimateRead
    quick: bool
    rework: bool
    pickup_free: bool
    pickup_distance_km: float | None
    window_start: datetime
    window_end: datetime
    proposed: SlotRead | None
    slots: list[SlotRead]
    recalls: list[str]
    declined_work: list[dict[str, Any]]


class AppointmentRead(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    vehicle_id: uuid.UUID
    advisor_staff_id: uuid.UUID | None
    technician_id: uuid.UUID
    bay_id: uuid.UUID | None
    loaner_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str
    job_codes: list[str]
    intake: dict[str, Any]
    estimate: EstimateRead
    rework: bool
    quick: bool
    mobile: bool
    loaner: bool
    pickup: bool
    pickup_free: bool
    pickup_distance_km: float | None
    recalls: list[str]
    declined_offered: list[dict[str, Any]]
    request_received_at: datetime
    first_response_at: datetime | None
    booked_at: datetime
    confirmed_at: datetime | None
    arrived_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    reschedule_count: int
    repair_order_id: uuid.UUID | None
    request_channel: str = ""  # default: responses stored for idempotency keys before it


class TaskRead(msgspec.Struct):
    id: uuid.UUID
    appointment_id: uuid.UUID
    customer_id: uuid.UUID
    kind: str
    status: str
    note: str
    created_at: datetime


def estimate_read(minutes: int, labour_fen: int, parts_fen: int) -> EstimateRead:
    return EstimateRead(minutes, labour_fen, parts_fen, labour_fen + parts_fen)


def appointment_read(row: Any) -> AppointmentRead:
    """An `Appointment` row as the API shows it."""
    return AppointmentRead(
        id=row.id, customer_id=row.customer_id, vehicle_id=row.vehicle_id,
        advisor_staff_id=row.advisor_staff_id, technician_id=row.technician_id,
        bay_id=row.bay_id, loaner_id=row.loaner_id, driver_id=row.driver_id,
        starts_at=row.starts_at, ends_at=row.ends_at, status=row.status, channel=row.channel,
        job_codes=list(row.job_codes), intake=dict(row.intake),
        estimate=estimate_read(row.estimate_minutes, row.estimate_labour_fen,
                               row.estimate_parts_fen),
        rework=row.rework, quick=row.quick, mobile=row.mobile, loaner=row.loaner,
        pickup=row.pickup, pickup_free=row.pickup_free,
        pickup_distance_km=row.pickup_distance_km, recalls=list(row.recalls),
        declined_offered=list(row.declined_offered),
        request_received_at=row.request_received_at, first_response_at=row.first_response_at,
        booked_at=row.booked_at, confirmed_at=row.confirmed_at, arrived_at=row.arrived_at,
        delivered_at=row.delivered_at, cancelled_at=row.cancelled_at,
        reschedule_count=row.reschedule_count, repair_order_id=row.repair_order_id,
        request_channel=row.request_channel,
    )
