"""Today's due list: the CS centre's page and the JSON API."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.audit import AUDIT_READS, note_customers_shown
from dealerhub.platform.auth import dealer_admin_only, dealer_staff
from dealerhub.platform.campaigns.due_lists import service
from dealerhub.platform.campaigns.due_lists.rules import REASONS
from dealerhub.platform.campaigns.due_lists.schemas import (
    DueListEntryRead,
    DueListPageRead,
    OutcomeWrite,
    entry_read,
)
from dealerhub.platform.campaigns.web import (
    PAGE_SIZE,
    found,
    input_errors,
    int_arg,
    page_count,
    render,
)
from dealerhub.tenants.fields import InvalidInput


class DueListApiController(Controller):
    path = "/api/v1/due-lists"
    tags = ["due lists"]
    guards = [dealer_staff]

    @get("/today", opt=AUDIT_READS)
    async def today(self, request: Request, reason: str | None = None, page: int = 1,
                    sort: str = "due_on") -> DueListPageRead:
        with input_errors():
            listed = await service.todays_list(request.user.tenant_id, reason=reason,
                                               page=page, sort=sort)
        note_customers_shown(request, (row["customer_id"] for row in listed.entries))
        return DueListPageRead(listed.today, [entry_read(row) for row in listed.entries],
                               listed.total, listed.counts)

    @post("/entries/{entry_id:uuid}/outcome", status_code=200)
    async def outcome(self, request: Request, entry_id: uuid.UUID,
                      data: OutcomeWrite) -> DueListEntryRead:
        with input_errors():
            row = await service.record_outcome(request.user.tenant_id, entry_id, data.outcome,
                                               data.reason, request.user.id)
        return entry_read(found(row, "due-list entry"))


class DueListPagesController(Controller):
    path = "/due-lists"
    guards = [dealer_staff]
    include_in_schema = False

    @get("/", opt=AUDIT_READS)
    async def today(self, request: Request) -> Template:
        params = request.query_params
        reason = params.get("reason") or None
        sort = params.get("sort") or "due_on"
        desc = params.get("desc") == "true"
        number = int_arg(params.get("page"), 1)
        try:
            listed = await service.todays_list(request.user.tenant_id, reason=reason,
                                               page=number, sort=sort, descending=desc)
        except InvalidInput:
            reason, sort = None, "due_on"
            listed = await service.todays_list(request.user.tenant_id, page=number)
        note_customers_shown(request, (row["customer_id"] for row in listed.entries))
        return render(request, "campaigns/due_list.html", found=listed, reason=reason,
                    reasons=REASONS, sort=sort, sorts=list(service.SORTS), desc=desc,
                    page_number=number, pages=page_count(listed.total, PAGE_SIZE),
                    outcomes=service.OUTCOMES, error=params.get("error", ""))

    @post("/{entry_id:uuid}/outcome")
    async def outcome(self, request: Request, entry_id: uuid.UUID) -> Redirect:
        form = await request.form()
        try:
            row = await service.record_outcome(
                request.user.tenant_id, entry_id, str(form.get("outcome", "")),
                str(form.get("reason", "")), request.user.id)
        except InvalidInput as invalid:
            return Redirect(f"/due-lists?error={invalid.errors[0].field}")
        found(row, "due-list entry")
        return Redirect("/due-lists")

    @post("/settings", guards=[dealer_admin_only])
    async def settings(self, request: Request) -> Redirect:
        form = await request.form()
        try:
            await service.set_declined_work_days(
                request.user.tenant_id, int_arg(str(form.get("declined_work_days", "")), 0, 0))
        except InvalidInput as invalid:
            return Redirect(f"/due-lists?error={invalid.errors[0].field}")
        return Redirect("/due-lists")
