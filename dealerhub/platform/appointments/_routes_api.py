"""The appointments JSON API (`/api/v1/appointments`): staff bearer tokens or dealer API keys
with the `appointments` scope."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter

from dealerhub.platform.appointments import service
from dealerhub.platform.appointments._forms import convert
from dealerhub.platform.appointments._http import http_errors
from dealerhub.platform.appointments.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    ArrivalToRepairOrder,
    AvailabilityQuery,
    AvailabilityRead,
    FirstMaintenanceQuery,
    HolidayCreate,
    JobCreate,
    ResourceCreate,
    SettingsUpdate,
    SlotRead,
    StatusChange,
    TaskRead,
    TechnicianCreate,
    appointment_read,
    estimate_read,
)
from dealerhub.platform.audit import AUDIT_READS, note_customer, note_customers_shown
from dealerhub.platform.auth import (
    DEALER_ROLES,
    CurrentUser,
    dealer_admin_only,
    requires_roles,
    requires_scope,
)
from dealerhub.platform.web import found

IdempotencyHeader = Annotated[str | None, Parameter(header="Idempotency-Key", max_length=200,
                                                    required=False)]


def actor_of(user: CurrentUser) -> str:
    return f"{user.via}:{user.id}"


def channel_of(user: CurrentUser) -> str:
    return "api" if user.via == "api_key" else "portal"


def availability_read(found: service.Availability) -> AvailabilityRead:
    slots = [SlotRead(a.starts_at, a.ends_at, a.technician_id, a.bay_id, a.loaner_id,
                      a.driver_id, found.advisor_staff_id) for a in found.slots]
    return AvailabilityRead(
        job_codes=found.need.codes,
        estimate=estimate_read(found.need.minutes, found.need.labour_fen, found.need.parts_fen),
        quick=found.need.quick, rework=found.rework, pickup_free=found.pickup.free,
        pickup_distance_km=found.pickup.distance_km, window_start=found.window_start,
        window_end=found.window_end, proposed=slots[0] if slots else None, slots=slots,
        recalls=found.context.vehicle.open_recalls, declined_work=found.context.declined_work,
    )


def _found(row: Any) -> AppointmentRead:
    return appointment_read(found(row, "appointment"))


class AppointmentApiController(Controller):
    path = "/api/v1/appointments"
    tags = ("appointments",)
    guards = (requires_roles(*DEALER_ROLES, "integration"), requires_scope("appointments"))

    @get("/availability")
    async def availability(
        self, request: Request, vehicle_id: uuid.UUID, preferred_at: datetime,
        job_codes: Annotated[list[str] | None, Parameter(max_items=20)] = None,
        problem: Annotated[str, Parameter(max_length=2000)] = "", loaner: bool = False,
        pickup: bool = False, mobile: bool = False, rework: bool = False,
        pickup_latitude: float | None = None, pickup_longitude: float | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 20,
    ) -> AvailabilityRead:
        """Bookable slots from the preferred time to one day after it (rework: today too);
        `proposed` is the earliest. A read: a GET with the query of `AvailabilityQuery`."""
        with http_errors():
            query = convert(AvailabilityQuery, {
                "vehicle_id": str(vehicle_id), "preferred_at": preferred_at.isoformat(),
                "job_codes": job_codes or [], "problem": problem, "loaner": loaner,
                "pickup": pickup, "mobile": mobile, "rework": rework,
                "pickup_latitude": pickup_latitude, "pickup_longitude": pickup_longitude,
                "limit": limit})
            return availability_read(await service.find_slots(request.user.tenant_id, query))

    @post("/")
    async def book(self, request: Request, data: AppointmentCreate,
                   idempotency_key: IdempotencyHeader = None) -> Response[AppointmentRead]:
        """Book; send `Idempotency-Key` and a retry returns the first result."""
        user: CurrentUser = request.user
        with http_errors():
            booking = await service.book(user.tenant_id, data, channel=channel_of(user),
                                         actor=actor_of(user), idempotency_key=idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if booking.replayed else {}
        return Response(booking.appointment, status_code=201, headers=headers)

    @get("/", opt=AUDIT_READS)
    async def list_day(self, request: Request, day: date | None = None,
                       days: Annotated[int, Parameter(ge=1, le=62)] = 1) -> list[AppointmentRead]:
        """Appointments starting on `day` (the dealer's local date, default today) and the
        following `days - 1` days."""
        cap = await service.capacity(request.user.tenant_id)
        start = cap.day_bounds(datetime.combine(day, time(12), tzinfo=cap.zone)
                               if day else datetime.now(UTC))[0]
        rows = await service.list_appointments(request.user.tenant_id, start,
                                               start + timedelta(days=days))
        note_customers_shown(request, (row.customer_id for row in rows))
        return [appointment_read(row) for row in rows]

    @get("/calendar.ics", media_type="text/calendar")
    async def calendar(self, request: Request, day: date | None = None,
                       days: Annotated[int, Parameter(ge=1, le=366)] = 60) -> Response[bytes]:
        """The dealer's appointments as iCalendar, from `day` (default today) for `days`."""
        start = datetime.combine(day or datetime.now(UTC).date(), time(0), tzinfo=UTC)
        body = await service.calendar_ics(request.user.tenant_id, start,
                                          start + timedelta(days=days))
        return Response(body, media_type="text/calendar; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="appointments.ics"'})

    @post("/first-maintenance", status_code=200)
    async def first_maintenance(self, request: Request,
                                data: FirstMaintenanceQuery) -> AvailabilityRead:
        """At vehicle sale: slots for the first maintenance three months after purchase."""
        with http_errors():
            return availability_read(await service.propose_first_maintenance(
                request.user.tenant_id, data.vehicle_id))

    @get("/tasks", opt=AUDIT_READS)
    async def tasks(self, request: Request) -> list[TaskRead]:
        """Open CS tasks, such as customers' replies asking to reschedule."""
        tasks = await service.open_tasks(request.user.tenant_id)
        note_customers_shown(request, (t.customer_id for t in tasks))
        return [TaskRead(t.id, t.appointment_id, t.customer_id, t.kind, t.status, t.note,
                         t.created_at) for t in tasks]

    @get("/{appointment_id:uuid}", opt=AUDIT_READS)
    async def get_one(self, request: Request, appointment_id: uuid.UUID) -> AppointmentRead:
        found = _found(await service.get_appointment(request.user.tenant_id, appointment_id))
        note_customer(request, found.customer_id)
        return found

    @post("/{appointment_id:uuid}/reschedule", status_code=200)
    async def reschedule(self, request: Request, appointment_id: uuid.UUID,
                         data: AppointmentReschedule) -> AppointmentRead:
        with http_errors():
            return _found(await service.reschedule(request.user.tenant_id, appointment_id,
                                                   data.starts_at,
                                                   actor=actor_of(request.user)))

    @post("/{appointment_id:uuid}/cancel", status_code=200)
    async def cancel(self, request: Request, appointment_id: uuid.UUID,
                     data: AppointmentCancel) -> AppointmentRead:
        with http_errors():
            return _found(await service.cancel(request.user.tenant_id, appointment_id,
                                               reason=data.reason))

    @post("/{appointment_id:uuid}/confirm", status_code=200)
    async def confirm(self, request: Request, appointment_id: uuid.UUID) -> AppointmentRead:
        with http_errors():
            return _found(await service.confirm(request.user.tenant_id, appointment_id))

    @post("/{appointment_id:uuid}/status", status_code=200)
    async def status(self, request: Request, appointment_id: uuid.UUID,
                     data: StatusChange) -> AppointmentRead:
        with http_errors():
            return _found(await service.change_status(request.user.tenant_id, appointment_id,
                                                      data.status))

    @post("/{appointment_id:uuid}/repair-order", status_code=200)
    async def repair_order(self, request: Request, appointment_id: uuid.UUID,
                           data: ArrivalToRepairOrder) -> AppointmentRead:
        """The arrival becomes a repair order carrying the intake over."""
        with http_errors():
            return _found(await service.arrival_to_repair_order(
                request.user.tenant_id, appointment_id, mileage_km=data.mileage_km))


class CapacityApiController(Controller):
    """The dealer's capacity model; changes are the dealer admin's."""

    path = "/api/v1/appointments/capacity"
    tags = ("appointments",)
    guards = (requires_roles(*DEALER_ROLES, "integration"), requires_scope("appointments"))

    @get("/")
    async def read(self, request: Request) -> dict[str, Any]:
        found = await service.overview(request.user.tenant_id)
        return msgspec.to_builtins({"settings": found.settings, "holidays": found.holidays,
                                    "resources": found.resources,
                                    "technicians": found.technicians, "jobs": found.jobs})

    @patch("/settings", guards=[dealer_admin_only])
    async def settings(self, request: Request, data: SettingsUpdate) -> dict[str, Any]:
        with http_errors():
            return msgspec.to_builtins(await service.update_settings(request.user.tenant_id,
                                                                     data))

    @post("/holidays", guards=[dealer_admin_only])
    async def holiday(self, request: Request, data: HolidayCreate) -> dict[str, Any]:
        with http_errors():
            row = await service.add_holiday(request.user.tenant_id, data)
        return {"id": str(row.id), "day": row.day.isoformat(), "name": row.name}

    @post("/resources", guards=[dealer_admin_only])
    async def resource(self, request: Request, data: ResourceCreate) -> dict[str, Any]:
        row = await service.add_resource(request.user.tenant_id, data)
        return {"id": str(row.id), "kind": row.kind, "name": row.name}

    @post("/technicians", guards=[dealer_admin_only])
    async def technician(self, request: Request, data: TechnicianCreate) -> dict[str, Any]:
        with http_errors():
            row = await service.add_technician(request.user.tenant_id, data)
        return {"id": str(row.id), "name": row.name, "skills": row.skills, "shifts": row.shifts}

    @post("/jobs", guards=[dealer_admin_only])
    async def job(self, request: Request, data: JobCreate) -> dict[str, Any]:
        with http_errors():
            row = await service.add_job(request.user.tenant_id, data)
        return {"id": str(row.id), "code": row.code, "quick": row.quick,
                "duration_minutes": row.duration_minutes}
