"""Complaints over HTTP: the board with SLA timers and alerts, one complaint with its
actions, recording a complaint from a call; and a small JSON API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from dealerhub.platform.audit import AUDIT_READS, note_customer, note_customers_shown
from dealerhub.platform.auth import DEALER_ROLES, requires_roles, requires_scope
from dealerhub.platform.web import found, page
from dealerhub.survey import web
from dealerhub.survey.common import utcnow
from dealerhub.survey.complaints import service
from dealerhub.survey.complaints.schemas import ComplaintCreate, ComplaintRead, complaint_read
from dealerhub.survey.complaints.tables import SEVERITIES, STATUSES
from dealerhub.tenants.customers import service as customers
from dealerhub.tenants.fields import InvalidInput

ACTIONS: dict[str, Callable[..., Awaitable[Any]]] = {
    "interim": lambda tid, cid, form, who: service.interim_answer(tid, cid, web.text(form, "note"),
                                                                  who),
    "resolve": lambda tid, cid, form, who: service.resolve(tid, cid, web.text(form, "note"), who),
    "callback": lambda tid, cid, form, who: service.record_callback(
        tid, cid, {"yes": True, "no": False}.get(web.text(form, "satisfied")),
        web.text(form, "note"), who),
    "review": lambda tid, cid, form, who: service.review(tid, cid, web.text(form, "note"), who),
    "major": lambda tid, cid, form, who: service.mark_major(tid, cid, who),
}


class ComplaintPagesController(Controller):
    path = "/complaints"
    guards = web.dealer_pages
    include_in_schema = False

    @get("/", opt=AUDIT_READS)
    async def board(self, request: Request, status: str = "open", page_number: int = 1) -> Template:
        page_number = web.int_arg(page_number, 1)
        tid = request.user.tenant_id
        found = await service.board(tid, status=status if status != "all" else None,
                                    page=page_number, per_page=web.PER_PAGE)
        alerts = await service.alerts(tid, limit=10)
        note_customers_shown(request, [*(c.customer_id for c in found.rows),
                                       *(a.customer_id for a in alerts)])
        return page(request, "survey/complaints.html", board=found, alerts=alerts,
                    status=status, statuses=["open", *STATUSES, "all"], now=utcnow(),
                    page_number=page_number, pages=web.pages(found.total))

    @post("/alerts/read")
    async def alerts_read(self, request: Request) -> Redirect:
        await service.mark_alerts_read(request.user.tenant_id)
        return Redirect("/complaints", status_code=303)

    @get("/new")
    async def new_form(self, request: Request, customer_id: str = "") -> Template:
        return page(request, "survey/complaint_new.html", values={"customer_id": customer_id},
                    errors={}, severities=SEVERITIES)

    @post("/new")
    async def create(self, request: Request) -> Any:
        form = await web.form_data(request)
        try:
            customer_id = uuid.UUID(web.text(form, "customer_id"))
        except ValueError:
            return page(request, "survey/complaint_new.html", status_code=400, values=form,
                        errors={"customer_id": "choose a customer"}, severities=SEVERITIES)
        try:
            row = await service.record_from_call(
                request.user.tenant_id, customer_id, web.text(form, "verbatim"),
                web.text(form, "severity") or "normal", web.actor(request))
        except service.NotAllowed as error:
            raise web.refused(error) from None
        except InvalidInput as invalid:
            return page(request, "survey/complaint_new.html", status_code=400, values=form,
                        errors=web.form_errors(invalid), severities=SEVERITIES)
        return Redirect(f"/complaints/{row.id}", status_code=303)

    @get("/{complaint_id:uuid}", opt=AUDIT_READS)
    async def view(self, request: Request, complaint_id: uuid.UUID, error: str = "") -> Template:
        row, log = found(await service.get_complaint(request.user.tenant_id, complaint_id),
                         "complaint")
        note_customer(request, row.customer_id)
        profile = await customers.contact_profile(request.user.tenant_id, row.customer_id)
        return page(request, "survey/complaint.html", c=row, log=log, now=utcnow(),
                    customer=profile, error=error)

    @post("/{complaint_id:uuid}/{action:str}")
    async def act(self, request: Request, complaint_id: uuid.UUID, action: str) -> Any:
        handler = ACTIONS.get(action)
        if handler is None:
            raise NotFoundException("no such action")
        form = await web.form_data(request)
        try:
            row = await handler(request.user.tenant_id, complaint_id, form, web.actor(request))
        except service.NotAllowed as error:
            raise web.refused(error) from None
        except (InvalidInput, service.StateError) as error:
            shown, log = found(await service.get_complaint(request.user.tenant_id,
                                                           complaint_id), "complaint")
            return page(request, "survey/complaint.html", status_code=400, c=shown, log=log,
                        now=utcnow(), error=str(error),
                        customer=await customers.contact_profile(request.user.tenant_id,
                                                                 shown.customer_id))
        found(row, "complaint")
        return Redirect(f"/complaints/{complaint_id}", status_code=303)


class ComplaintApiController(Controller):
    path = "/api/v1/complaints"
    tags = ["complaints"]

    @get("/{complaint_id:uuid}", guards=[requires_roles(*DEALER_ROLES, "integration"),
                                         requires_scope("read")], opt=AUDIT_READS)
    async def get_complaint(self, request: Request, complaint_id: uuid.UUID) -> ComplaintRead:
        row, _log = found(await service.get_complaint(request.user.tenant_id, complaint_id),
                          "complaint")
        note_customer(request, row.customer_id)
        return complaint_read(row)

    @post("/", guards=[requires_roles(*DEALER_ROLES)])
    async def record(self, request: Request, data: ComplaintCreate) -> ComplaintRead:
        """A complaint heard on a call, recorded by a CS agent."""
        try:
            row = await service.record_from_call(request.user.tenant_id, data.customer_id,
                                                 data.verbatim, data.severity,
                                                 web.actor(request))
        except service.NotAllowed as error:
            raise web.refused(error) from None
        except InvalidInput as invalid:
            raise web.validation_error(invalid) from None
        return complaint_read(row)
