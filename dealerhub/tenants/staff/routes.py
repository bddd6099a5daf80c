"""Staff in the JSON API and the portal (the dealer admin manages them)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import dealer_admin_only
from dealerhub.platform.web import register_nav
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.staff import service
from dealerhub.tenants.staff.schemas import StaffCreate, StaffRead, StaffUpdate
from dealerhub.tenants.staff.tables import STAFF_KINDS, Staff
from dealerhub.tenants.web import (
    api_read,
    form_data,
    form_errors,
    found,
    input_errors,
    render,
)


def staff_read(row: Staff, customers: int = 0) -> StaffRead:
    return StaffRead(row.id, row.name, row.kind, row.user_id, row.phone_e164, row.active,
                     customers)


class StaffApiController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]

    @get("/", guards=api_read)
    async def list_members(self, request: Request, kind: str | None = None) -> list[StaffRead]:
        return [staff_read(row) for row in await service.list_staff(request.user.tenant_id, kind)]

    @post("/", guards=[dealer_admin_only])
    async def create(self, request: Request, data: StaffCreate) -> StaffRead:
        with input_errors():
            return staff_read(await service.create_staff(request.user.tenant_id, data))

    @patch("/{staff_id:uuid}", guards=[dealer_admin_only])
    async def update(self, request: Request, staff_id: uuid.UUID, data: StaffUpdate) -> StaffRead:
        """Deactivate someone who left (their customers get an active colleague) or
        reactivate them."""
        member, _ = found(await service.set_staff_active(
            request.user.tenant_id, staff_id, data.active), "staff member")
        return staff_read(member)


class StaffPageController(Controller):
    path = "/staff"
    guards = [dealer_admin_only]

    async def _render(self, request: Request, status_code: int = 200, **context: Any) -> Template:
        members = await service.staff_with_loads(request.user.tenant_id)
        return render(request, "staff/list.html", status_code=status_code, members=members,
                    kinds=sorted(STAFF_KINDS), **context)

    @get("/", include_in_schema=False)
    async def list_page(self, request: Request) -> Template:
        return await self._render(request, values={}, errors={})

    @post("/", include_in_schema=False)
    async def create(self, request: Request) -> Any:
        values = await form_data(request)
        try:
            await service.create_staff(request.user.tenant_id, StaffCreate(
                name=values.get("name", ""), kind=values.get("kind", ""),
                phone=values.get("phone") or None))
        except InvalidInput as invalid:
            return await self._render(request, 400, values=values, errors=form_errors(invalid))
        return Redirect("/staff", status_code=303)

    @post("/{staff_id:uuid}/active", include_in_schema=False)
    async def set_active(self, request: Request, staff_id: uuid.UUID) -> Template:
        active = (await form_data(request)).get("active") == "1"
        member, moved = found(await service.set_staff_active(
            request.user.tenant_id, staff_id, active), "staff member")
        return await self._render(request, values={}, errors={}, changed=member, moved=moved)


register_nav("dealer", "/staff", "Staff", {"dealer_admin"}, order=80)
