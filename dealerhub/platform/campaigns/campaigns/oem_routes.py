"""OEM national campaigns in the headquarters console: aggregates only."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import oem_admin_only, oem_staff
from dealerhub.platform.campaigns.campaigns import oem
from dealerhub.platform.campaigns.campaigns.schemas import OemCampaignCreate, OemCampaignRead
from dealerhub.platform.campaigns.web import (
    PAGE_SIZE,
    form_errors,
    found,
    input_errors,
    int_arg,
    page_count,
    render,
)
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import transaction
from dealerhub.tenants.fields import FieldError, InvalidInput

HQ_ZONE = ZoneInfo("Asia/Shanghai")


class OemCampaignApiController(Controller):
    path = "/api/v1/hq/campaigns"
    tags = ["national campaigns"]
    guards = [oem_staff]

    @post("/", guards=[oem_admin_only])
    async def create(self, data: OemCampaignCreate) -> OemCampaignRead:
        with input_errors():
            row = await oem.create_oem_campaign(data)
        campaign = await oem.get_oem_campaign(row.id)
        assert campaign is not None
        return campaign

    @get("/{oem_campaign_id:uuid}")
    async def read(self, oem_campaign_id: uuid.UUID) -> OemCampaignRead:
        return found(await oem.get_oem_campaign(oem_campaign_id), "national campaign")


async def _active_dealers() -> list[dict]:
    async with transaction(write=False):
        return await Dealer.select(Dealer.id, Dealer.code, Dealer.name).where(
            Dealer.status == "active").order_by(Dealer.code)


def _from_form(form: dict, dealer_ids: list[uuid.UUID]) -> OemCampaignCreate:
    try:
        definition = json.loads(str(form.get("definition") or '{"rules": []}'))
    except ValueError as error:
        raise InvalidInput([FieldError("definition", f"not JSON: {error}")]) from None
    try:
        starts_at = datetime.fromisoformat(str(form.get("starts_at") or "")).replace(
            tzinfo=HQ_ZONE)
    except ValueError:
        raise InvalidInput([FieldError("starts_at", "give a date and time")]) from None
    texts = {v: {"body": str(form.get(f"text_{v}")).strip()} for v in ("zh-CN", "en")
             if str(form.get(f"text_{v}") or "").strip()}
    try:
        return msgspec.convert({"name": str(form.get("name") or ""), "definition": definition,
                                "texts": texts, "starts_at": starts_at,
                                "dealer_ids": dealer_ids,
                                "hold_out_percent": int_arg(str(form.get("hold_out_percent")
                                                                or ""), 0, 0, 50)},
                               OemCampaignCreate, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInput([FieldError("form", str(error))]) from None


class OemCampaignPagesController(Controller):
    path = "/hq/campaigns"
    guards = [oem_staff]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        number = int_arg(request.query_params.get("page"), 1)
        rows, total = await oem.list_oem_campaigns(number)
        return render(request, "campaigns/hq_list.html", campaigns=rows, total=total,
                      page_number=number, pages=page_count(total, PAGE_SIZE),
                      dealers=await _active_dealers(), form={}, errors={})

    @post("/", guards=[oem_admin_only])
    async def create(self, request: Request) -> Template | Redirect:
        submitted = await request.form()
        form = dict(submitted)
        try:
            dealer_ids = [uuid.UUID(value) for value in submitted.getall("dealer_ids", [])]
            row = await oem.create_oem_campaign(_from_form(form, dealer_ids))
        except InvalidInput as invalid:
            errors = form_errors(invalid)
            rows, total = await oem.list_oem_campaigns()
            return render(request, "campaigns/hq_list.html", status_code=400, campaigns=rows,
                          total=total, page_number=1, pages=page_count(total, PAGE_SIZE),
                          dealers=await _active_dealers(), form=form, errors=errors)
        return Redirect(f"/hq/campaigns/{row.id}")

    @get("/{oem_campaign_id:uuid}")
    async def detail(self, request: Request, oem_campaign_id: uuid.UUID) -> Template:
        campaign = found(await oem.get_oem_campaign(oem_campaign_id), "national campaign")
        async with transaction(write=False):
            codes = {row["id"]: row["code"] for row in await Dealer.select(Dealer.id, Dealer.code)}
        return render(request, "campaigns/hq_detail.html", campaign=campaign, codes=codes)
