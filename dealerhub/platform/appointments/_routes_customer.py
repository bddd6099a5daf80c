"""The car owner's self-service pages under `/c/appointments/`: reached from a signed link,
no login, mobile-first, plain forms that work without JavaScript."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.appointments import _forms as forms
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments._http import REFUSALS
from dealerhub.platform.appointments.tables import Appointment
from dealerhub.platform.links import LinkExpired, LinkInvalid
from dealerhub.platform.web import page
from dealerhub.platform.web.i18n import gettext_for, request_locale


def _link_refused(request: Request, error: LinkInvalid) -> Template:
    _ = gettext_for(request_locale(request))
    expired = isinstance(error, LinkExpired)
    return page(request, "appointments/c_message.html", status_code=410 if expired else 400,
                title=_("This link has expired") if expired else _("This link is not valid"),
                message=_("Please ask the dealer for a new link."))


async def _linked_appointment(token: str) -> tuple[service.LinkTarget, Appointment]:
    """The appointment a manage link names; LinkInvalid also when it no longer exists."""
    target = service.read_target(token, "manage")
    row = await service.get_appointment(target.tenant_id, target.appointment_id)
    if row is None:
        raise LinkInvalid("gone")
    return target, row


def _local_day(raw: str | None, fallback: datetime, cap: service.Capacity) -> date:
    try:
        return forms.parse_day(raw) or cap.local(fallback).date()
    except service.CapacityError:
        return cap.local(fallback).date()


def _day_slots(found: service.Availability | None, cap: service.Capacity,
               day: date) -> list[Any]:
    if found is None:
        return []
    return [slot for slot in found.slots if cap.local(slot.starts_at).date() == day]


class CustomerAppointmentController(Controller):
    path = "/c/appointments"
    include_in_schema = False

    async def _manage(self, request: Request, token: str, notice: str = "",
                      error: str = "", status_code: int = 200) -> Template:
        try:
            target, row = await _linked_appointment(token)
        except LinkInvalid as refused:
            return _link_refused(request, refused)
        cap = await service.capacity(target.tenant_id)
        return page(request, "appointments/c_manage.html", status_code=status_code, a=row,
                    cap=cap, token=token, notice=notice, error=error)

    @get("/{token:str}")
    async def manage(self, request: Request, token: str) -> Template:
        return await self._manage(request, token)

    async def _act(self, request: Request, token: str, action: Any, done: str) -> Template:
        _ = gettext_for(request_locale(request))
        try:
            target = service.read_target(token, "manage")
        except LinkInvalid as refused:
            return _link_refused(request, refused)
        try:
            await action(target)
        except REFUSALS as refused:
            return await self._manage(request, token, error=str(refused), status_code=409)
        return await self._manage(request, token, notice=_(done))

    @get("/{token:str}/confirm")
    async def confirm(self, request: Request, token: str) -> Template:
        """The one-tap link in the reminder; confirming twice is harmless."""
        return await self._act(request, token, lambda t: service.confirm(
            t.tenant_id, t.appointment_id), "Thank you, your appointment is confirmed.")

    @post("/{token:str}/cancel")
    async def cancel(self, request: Request, token: str) -> Template:
        return await self._act(request, token, lambda t: service.cancel(
            t.tenant_id, t.appointment_id, reason="cancelled by customer"),
            "Your appointment is cancelled.")

    @get("/{token:str}/reschedule")
    async def reschedule_form(self, request: Request, token: str,
                              day: str | None = None) -> Template:
        try:
            target, row = await _linked_appointment(token)
        except LinkInvalid as refused:
            return _link_refused(request, refused)
        if row.status != "booked":
            return await self._manage(request, token)
        cap = await service.capacity(target.tenant_id)
        chosen = _local_day(day, max(row.starts_at, datetime.now(UTC)), cap)
        found = await service.reschedule_options(target.tenant_id, row.id, chosen)
        return page(request, "appointments/c_reschedule.html", a=row, cap=cap, token=token,
                    day=chosen, slots=_day_slots(found, cap, chosen))

    @post("/{token:str}/reschedule")
    async def reschedule(self, request: Request, token: str) -> Template:
        form = await request.form()

        async def move(target: service.LinkTarget) -> Any:
            return await service.reschedule(
                target.tenant_id, target.appointment_id,
                forms.parse_datetime(str(form.get("starts_at", "")), "starts_at"),
                actor="customer")

        return await self._act(request, token, move, "Your appointment has been moved.")

    async def _book_page(self, request: Request, token: str, values: Any, error: str = "",
                         status_code: int = 200) -> Template:
        try:
            target = service.read_target(token, "book")
        except LinkInvalid as refused:
            return _link_refused(request, refused)
        cap = await service.capacity(target.tenant_id)
        fields = forms.booking_fields(values)
        day = _local_day(values.get("day"), datetime.now(UTC), cap)
        found = None
        if values.get("search") and not error:
            try:
                found = await service.find_slots(target.tenant_id, forms.availability_query(
                    values, vehicle_id=target.vehicle_id,
                    preferred_at=datetime.combine(day, datetime.min.time())))
            except REFUSALS as refused:
                error = str(refused)
        return page(request, "appointments/c_book.html", status_code=status_code, cap=cap,
                    token=token, fields=fields, day=day, found=found,
                    slots=_day_slots(found, cap, day), error=error)

    @get("/book/{token:str}")
    async def book_form(self, request: Request, token: str) -> Template:
        return await self._book_page(request, token, request.query_params)

    @post("/book/{token:str}")
    async def book(self, request: Request, token: str) -> Any:
        form = await request.form()
        try:
            target = service.read_target(token, "book")
        except LinkInvalid as refused:
            return _link_refused(request, refused)
        try:
            booking = await service.book(
                target.tenant_id, forms.appointment_create(form, vehicle_id=target.vehicle_id),
                channel="self_service", actor="customer")
        except REFUSALS as refused:
            return await self._book_page(request, token, form, str(refused), 409)
        return Redirect(service.manage_path(target.tenant_id, booking.appointment.id),
                        status_code=303)
