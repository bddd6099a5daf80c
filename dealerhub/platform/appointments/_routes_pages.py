"""The dealer portal pages: day board, booking form, appointment, CS tasks, capacity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from dealerhub.platform.appointments import _forms as forms
from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments._http import REFUSALS
from dealerhub.platform.appointments._routes_api import actor_of
from dealerhub.platform.appointments.schemas import (
    HolidayCreate,
    JobCreate,
    ResourceCreate,
    SettingsUpdate,
    TechnicianCreate,
)
from dealerhub.platform.audit import AUDIT_READS, note_customer, note_customers_shown
from dealerhub.platform.auth import dealer_admin_only, dealer_staff
from dealerhub.platform.web import page

STATUS_LABELS = {"booked": "Booked", "arrived": "Arrived", "in_service": "In service",
                 "ready": "Ready", "delivered": "Delivered", "no_show": "No-show",
                 "cancelled": "Cancelled"}
ACTION_LABELS = {"arrived": "Mark arrived", "in_service": "Start service",
                 "ready": "Mark ready", "delivered": "Deliver", "no_show": "No-show"}
NEXT_STATUS = {"booked": ["no_show"], "arrived": ["in_service"], "in_service": ["ready"],
               "ready": ["delivered"]}
WEEKDAY_LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
LABELS = {"status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
          "next_status": NEXT_STATUS, "weekday_labels": WEEKDAY_LABELS}


async def detail_page(request: Request, appointment_id: uuid.UUID, error: str = "",
                      status_code: int = 200) -> Template:
    tenant_id = request.user.tenant_id
    row = await service.get_appointment(tenant_id, appointment_id)
    if row is None:
        raise NotFoundException("no such appointment")
    note_customer(request, row.customer_id)
    cap = await service.capacity(tenant_id)
    return page(request, "appointments/detail.html", status_code=status_code, a=row,
                zone=cap.zone, jobs=cap.jobs, names=cap.resource_names, error=error,
                booked=bool(request.query_params.get("booked")),
                link=service.manage_path(tenant_id, row.id), **LABELS)


class AppointmentPagesController(Controller):
    path = "/appointments"
    guards = (dealer_staff,)
    include_in_schema = False

    @get(["/", "/board"], opt=AUDIT_READS)
    async def board(self, request: Request, day: str | None = None) -> Template:
        try:
            chosen = forms.parse_day(day)
        except service.CapacityError:
            chosen = None
        board = await service.day_board(request.user.tenant_id, chosen)
        note_customers_shown(request, (item.appointment.customer_id for group in board.groups
                                       for item in group.rows))
        return page(request, "appointments/board.html", board=board, **LABELS)

    @get("/new", opt=AUDIT_READS)
    async def new(self, request: Request) -> Template:
        tenant_id = request.user.tenant_id
        values = request.query_params
        fields = forms.booking_fields(values)
        found, error, vehicles = None, "", []
        catalogue = (await service.capacity(tenant_id)).jobs
        q = str(values.get("q") or "").strip()[:100]
        matches = await ports.find_customers(tenant_id, q) if q else ports.CustomerMatches([], {})
        if q:
            note_customers_shown(request, (c["id"] for c in matches.customers))
        if values.get("customer_id"):
            try:
                customer_id = forms.parse_uuid(str(values.get("customer_id")), "customer_id")
                vehicles = await ports.customer_vehicles(tenant_id, customer_id)
            except service.CapacityError as refused:
                error = str(refused)
        if values.get("search") and not error:
            try:
                found = await service.find_slots(tenant_id, forms.availability_query(values))
            except REFUSALS as refused:
                error = str(refused)
        return page(request, "appointments/new.html", fields=fields, found=found, error=error,
                    catalogue=catalogue, vehicles=vehicles, q=q, customers=matches.customers,
                    plates=matches.plates,
                    zone=(await service.capacity(tenant_id)).zone, **LABELS)

    @post("/new")
    async def create(self, request: Request) -> Any:
        form = await request.form()
        try:
            booking = await service.book(request.user.tenant_id,
                                         forms.appointment_create(form), channel="portal",
                                         actor=actor_of(request.user))
        except REFUSALS as refused:
            cap = await service.capacity(request.user.tenant_id)
            return page(request, "appointments/new.html", status_code=400,
                        fields=forms.booking_fields(form), found=None,
                        error=str(refused), catalogue=cap.jobs, vehicles=[], q="",
                        customers=[], plates={},
                        zone=cap.zone, **LABELS)
        return Redirect(f"/appointments/{booking.appointment.id}?booked=1", status_code=303)

    @get("/tasks", opt=AUDIT_READS)
    async def tasks(self, request: Request) -> Template:
        tasks = await service.open_tasks(request.user.tenant_id)
        note_customers_shown(request, (t.customer_id for t in tasks))
        return page(request, "appointments/tasks.html", tasks=tasks)

    @post("/tasks/{task_id:uuid}/done")
    async def task_done(self, request: Request, task_id: uuid.UUID) -> Redirect:
        if await service.close_task(request.user.tenant_id, task_id) is None:
            raise NotFoundException("no such task")
        return Redirect("/appointments/tasks", status_code=303)

    @get("/calendar.ics")
    async def calendar(self, request: Request) -> Response[bytes]:
        start = datetime.now(UTC) - timedelta(days=1)
        body = await service.calendar_ics(request.user.tenant_id, start,
                                          start + timedelta(days=90))
        return Response(body, media_type="text/calendar; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="appointments.ics"'})

    @get("/{appointment_id:uuid}", opt=AUDIT_READS)
    async def detail(self, request: Request, appointment_id: uuid.UUID) -> Template:
        return await detail_page(request, appointment_id)

    async def _change(self, request: Request, appointment_id: uuid.UUID, action: Any,
                      back: str) -> Any:
        try:
            row = await action
        except REFUSALS as refused:
            return await detail_page(request, appointment_id, str(refused), 409)
        if row is None:
            raise NotFoundException("no such appointment")
        return Redirect(back, status_code=303)

    @post("/{appointment_id:uuid}/status")
    async def status(self, request: Request, appointment_id: uuid.UUID) -> Any:
        form = await request.form()
        return await self._change(request, appointment_id, service.change_status(
            request.user.tenant_id, appointment_id, str(form.get("status", ""))),
            f"/appointments?day={form.get('day', '')}")

    @post("/{appointment_id:uuid}/repair-order")
    async def repair_order(self, request: Request, appointment_id: uuid.UUID) -> Any:
        form = await request.form()
        mileage = str(form.get("mileage_km") or "").strip()
        return await self._change(request, appointment_id, service.arrival_to_repair_order(
            request.user.tenant_id, appointment_id,
            mileage_km=int(mileage) if mileage.isdigit() else None),
            f"/appointments?day={form.get('day', '')}")

    @post("/{appointment_id:uuid}/reschedule")
    async def reschedule(self, request: Request, appointment_id: uuid.UUID) -> Any:
        form = await request.form()

        async def move() -> Any:
            starts_at = forms.parse_datetime(str(form.get("starts_at", "")), "starts_at")
            return await service.reschedule(request.user.tenant_id, appointment_id, starts_at,
                                            actor=actor_of(request.user))

        return await self._change(request, appointment_id, move(),
                                  f"/appointments/{appointment_id}")

    @post("/{appointment_id:uuid}/cancel")
    async def cancel(self, request: Request, appointment_id: uuid.UUID) -> Any:
        form = await request.form()
        return await self._change(request, appointment_id, service.cancel(
            request.user.tenant_id, appointment_id, reason=str(form.get("reason", ""))[:200]),
            f"/appointments/{appointment_id}")


class CapacityPagesController(Controller):
    """The dealer admin's capacity settings."""

    path = "/appointments/capacity"
    guards = (dealer_admin_only,)
    include_in_schema = False

    async def _show(self, request: Request, error: str = "", status_code: int = 200) -> Template:
        return page(request, "appointments/capacity.html", status_code=status_code,
                    data=await service.overview(request.user.tenant_id), error=error,
                    **LABELS)

    @get("/")
    async def show(self, request: Request) -> Template:
        return await self._show(request)

    async def _apply(self, request: Request, action: Any) -> Any:
        try:
            await action()
        except (*REFUSALS, ValueError) as refused:
            return await self._show(request, str(refused), 400)
        return Redirect("/appointments/capacity", status_code=303)

    @post("/settings")
    async def settings(self, request: Request) -> Any:
        form = await request.form()

        async def apply() -> None:
            hours = {str(day): ([str(form.get(f"open_{day}")), str(form.get(f"close_{day}"))]
                                if form.get(f"open_{day}") and form.get(f"close_{day}")
                                else None) for day in range(7)}
            await service.update_settings(request.user.tenant_id, forms.convert(
                SettingsUpdate, {"opening_hours": hours,
                                 "slot_minutes": int(form.get("slot_minutes", 15)),
                                 "buffer_minutes": int(form.get("buffer_minutes", 15)),
                                 "pickup_minutes": int(form.get("pickup_minutes", 60)),
                                 "free_pickup_km": float(form.get("free_pickup_km", 10))}))

        return await self._apply(request, apply)

    @post("/holidays")
    async def holiday(self, request: Request) -> Any:
        form = await request.form()

        async def apply() -> None:
            await service.add_holiday(request.user.tenant_id, forms.convert(
                HolidayCreate, {"day": str(form.get("day", "")),
                                "name": str(form.get("name", ""))}))

        return await self._apply(request, apply)

    @post("/holidays/{holiday_id:uuid}/delete")
    async def holiday_delete(self, request: Request, holiday_id: uuid.UUID) -> Any:
        if not await service.remove_holiday(request.user.tenant_id, holiday_id):
            raise NotFoundException("no such holiday")
        return Redirect("/appointments/capacity", status_code=303)

    @post("/resources")
    async def resource(self, request: Request) -> Any:
        form = await request.form()

        async def apply() -> None:
            await service.add_resource(request.user.tenant_id, forms.convert(
                ResourceCreate, {"kind": str(form.get("kind", "")),
                                 "name": str(form.get("name", "")).strip()}))

        return await self._apply(request, apply)

    @post("/technicians")
    async def technician(self, request: Request) -> Any:
        form = await request.form()

        async def apply() -> None:
            span = [str(form.get("shift_start", "")), str(form.get("shift_end", ""))]
            days = {str(d) for d in form.getall("shift_days", [])}
            await service.add_technician(request.user.tenant_id, forms.convert(
                TechnicianCreate, {
                    "name": str(form.get("name", "")).strip(),
                    "skills": [s.strip() for s in str(form.get("skills", "")).replace(
                        "，", ",").split(",") if s.strip()],
                    "shifts": {str(d): span if str(d) in days else None for d in range(7)}}))

        return await self._apply(request, apply)

    @post("/jobs")
    async def job(self, request: Request) -> Any:
        form = await request.form()

        async def apply() -> None:
            await service.add_job(request.user.tenant_id, forms.convert(JobCreate, {
                "code": str(form.get("code", "")).strip(),
                "name_zh": str(form.get("name_zh", "")).strip(),
                "name_en": str(form.get("name_en", "")).strip(),
                "duration_minutes": int(form.get("duration_minutes") or 0),
                "skill": str(form.get("skill", "")).strip(),
                "labour_price_fen": round(float(form.get("labour_price") or 0) * 100),
                "parts_price_fen": round(float(form.get("parts_price") or 0) * 100),
                "mobile": bool(form.get("mobile")),
                "keywords": [k.strip() for k in str(form.get("keywords", "")).replace(
                    "，", ",").split(",") if k.strip()]}))

        return await self._apply(request, apply)

    @post("/{kind:str}/{object_id:uuid}/active")
    async def toggle(self, request: Request, kind: str, object_id: uuid.UUID) -> Any:
        if kind not in ("technician", "resource", "job"):
            raise NotFoundException("no such kind")
        form = await request.form()
        if not await service.set_active(request.user.tenant_id, kind, object_id,
                                        form.get("active") == "1"):
            raise NotFoundException("no such entry")
        return Redirect("/appointments/capacity", status_code=303)
