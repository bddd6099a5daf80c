"""Dealer campaigns over HTTP: list, create, results with recipients, CS responses."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import dealer_staff
from dealerhub.platform.campaigns.campaigns import service
from dealerhub.platform.campaigns.campaigns.forms import TEXT_VARIANTS, campaign_from_form
from dealerhub.platform.campaigns.campaigns.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignResults,
    RecipientRead,
    ResponseWrite,
)
from dealerhub.platform.campaigns.campaigns.tables import Campaign, CampaignRecipient
from dealerhub.platform.campaigns.due_lists.rules import REASONS
from dealerhub.platform.campaigns.segments import service as segments
from dealerhub.platform.campaigns.web import (
    PAGE_SIZE,
    form_errors,
    found,
    input_errors,
    int_arg,
    page_count,
    render,
)
from dealerhub.tenants.fields import InvalidInput


def campaign_read(row: Campaign) -> CampaignRead:
    return CampaignRead(**{name: getattr(row, name) for name in CampaignRead.__struct_fields__})


def recipient_read(row: CampaignRecipient) -> RecipientRead:
    return RecipientRead(**{name: getattr(row, name)
                            for name in RecipientRead.__struct_fields__})


class CampaignApiController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]
    guards = [dealer_staff]

    @get("/")
    async def list_campaigns(self, request: Request, page: int = 1) -> list[CampaignRead]:
        rows, _ = await service.list_campaigns(request.user.tenant_id, page=page)
        return [campaign_read(row) for row in rows]

    @post("/")
    async def create(self, request: Request, data: CampaignCreate) -> CampaignRead:
        with input_errors():
            row = await service.create_campaign(request.user.tenant_id, data, request.user.id)
        return campaign_read(row)

    @get("/{campaign_id:uuid}")
    async def read(self, request: Request, campaign_id: uuid.UUID) -> CampaignRead:
        row = await service.get_campaign(request.user.tenant_id, campaign_id)
        return campaign_read(found(row, "campaign"))

    @get("/{campaign_id:uuid}/results")
    async def results(self, request: Request, campaign_id: uuid.UUID) -> CampaignResults:
        return found(await service.results(request.user.tenant_id, campaign_id), "campaign")

    @post("/{campaign_id:uuid}/recipients/{recipient_id:uuid}/response", status_code=200)
    async def response(self, request: Request, campaign_id: uuid.UUID,
                       recipient_id: uuid.UUID, data: ResponseWrite) -> RecipientRead:
        with input_errors():
            row = await service.record_response(request.user.tenant_id, campaign_id,
                                                recipient_id, data.response, data.reason)
        return recipient_read(found(row, "recipient"))


class CampaignPagesController(Controller):
    path = "/campaigns"
    guards = [dealer_staff]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        params = request.query_params
        number = int_arg(params.get("page"), 1)
        sort = params.get("sort") or "created_at"
        rows, total = await service.list_campaigns(request.user.tenant_id, page=number,
                                                   sort=sort, descending=sort != "name")
        return render(request, "campaigns/list.html", campaigns=rows, total=total, sort=sort,
                      page_number=number, pages=page_count(total, PAGE_SIZE))

    async def _form(self, request: Request, status_code: int = 200,
                    **context: object) -> Template:
        rows, _ = await segments.list_segments(request.user.tenant_id, per_page=100)
        context.setdefault("form", {"source": f"segment:{request.query_params.get('segment_id')}"
                                    if request.query_params.get("segment_id") else ""})
        return render(request, "campaigns/form.html", status_code=status_code,
                      segments=rows, reasons=REASONS, variants=TEXT_VARIANTS,
                      errors=context.pop("errors", {}), **context)

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await self._form(request)

    @post("/")
    async def create(self, request: Request) -> Template | Redirect:
        form = dict(await request.form())
        tenant_id = request.user.tenant_id
        try:
            data = campaign_from_form(form, (await segments.dealer_today(tenant_id)).zone)
            row = await service.create_campaign(tenant_id, data, request.user.id)
        except InvalidInput as invalid:
            return await self._form(request, 400, form=form,
                                    errors=form_errors(invalid))
        return Redirect(f"/campaigns/{row.id}")

    @get("/{campaign_id:uuid}")
    async def detail(self, request: Request, campaign_id: uuid.UUID) -> Template:
        tenant_id = request.user.tenant_id
        campaign = found(await service.get_campaign(tenant_id, campaign_id), "campaign")
        number = int_arg(request.query_params.get("page"), 1)
        recipients, total = await service.list_recipients(tenant_id, campaign_id, page=number)
        return render(request, "campaigns/detail.html", campaign=campaign,
                      results=await service.results(tenant_id, campaign_id),
                      recipients=recipients, total=total, page_number=number,
                      pages=page_count(total, PAGE_SIZE), error=request.query_params.get(
                          "error", ""))

    @post("/{campaign_id:uuid}/recipients/{recipient_id:uuid}/response")
    async def response(self, request: Request, campaign_id: uuid.UUID,
                       recipient_id: uuid.UUID) -> Redirect:
        form = await request.form()
        try:
            row = await service.record_response(
                request.user.tenant_id, campaign_id, recipient_id,
                str(form.get("response", "")), str(form.get("reason", "")))
        except InvalidInput as invalid:
            return Redirect(f"/campaigns/{campaign_id}?error={invalid.errors[0].field}")
        found(row, "recipient")
        return Redirect(f"/campaigns/{campaign_id}")
