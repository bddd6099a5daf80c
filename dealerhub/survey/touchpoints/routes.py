"""The CS call list: due touchpoint calls and resolved complaints waiting for a call."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.audit import AUDIT_READS, note_customers_shown
from dealerhub.platform.web import found, page
from dealerhub.survey import web
from dealerhub.survey.complaints.service import NotAllowed, StateError
from dealerhub.survey.touchpoints import service
from dealerhub.tenants.fields import InvalidInput


class CallListController(Controller):
    path = "/survey/calls"
    guards = web.dealer_pages
    include_in_schema = False

    async def _page(self, request: Request, page_number: int, error: str = "",
                    status_code: int = 200) -> Template:
        found = await service.call_list(request.user.tenant_id, page=page_number,
                                        per_page=web.PER_PAGE)
        note_customers_shown(request, [*(t.customer_id for t in found.calls),
                                       *(c.customer_id for c in found.callbacks)])
        return page(request, "survey/calls.html", status_code=status_code, found=found,
                    steps=service.STEPS, outcomes=service.OUTCOMES, page_number=page_number,
                    pages=web.pages(found.total), error=error)

    @get("/", opt=AUDIT_READS)
    async def calls(self, request: Request, page_number: int = 1) -> Template:
        return await self._page(request, web.int_arg(page_number, 1))

    @post("/{touchpoint_id:uuid}")
    async def outcome(self, request: Request, touchpoint_id: uuid.UUID) -> Any:
        form = await web.form_data(request)
        try:
            row = await service.record_outcome(
                request.user.tenant_id, touchpoint_id, web.text(form, "outcome"),
                web.text(form, "note"), web.actor(request))
        except NotAllowed as error:
            raise web.refused(error) from None
        except (InvalidInput, StateError) as error:
            return await self._page(request, 1, str(error), 400)
        found(row, "call")
        return Redirect("/survey/calls", status_code=303)
