"""Headquarters' review of flagged responses: the console page and the JSON API. Every
OEM role may review; a regional manager sees and decides only the dealers of their region."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import CurrentUser, oem_staff
from dealerhub.platform.tables import Dealer, Region
from dealerhub.platform.web import found, page
from dealerhub.survey import web
from dealerhub.survey.common import as_uuid
from dealerhub.survey.integrity import service
from dealerhub.survey.integrity.schemas import (
    FlagDecisionWrite,
    FlagReviewPage,
    FlagReviewRead,
    flag_review_read,
)
from dealerhub.survey.integrity.tables import REVIEW_STATES
from dealerhub.tenants.fields import InvalidInput

MAX_PER_PAGE = 100
WHAT = "flagged response"


def _reviewer(user: CurrentUser) -> service.Reviewer:
    return service.Reviewer(user.id, user.email,
                            service.visible_region(user.role, user.region_id))


class FlagReviewApiController(Controller):
    path = "/api/v1/hq/survey/flags"
    tags = ["survey review"]
    guards = [oem_staff]

    @get("/")
    async def list_flags(self, request: Request, dealer_id: uuid.UUID | None = None,
                         region_id: uuid.UUID | None = None, flag: str = "",
                         review_state: str = "",
                         sort: str = "newest", page: int = 1,
                         per_page: int = service.PER_PAGE) -> FlagReviewPage:
        """Flagged responses of every dealer (a regional manager: their region's), newest
        first; no customer data."""
        page, per_page = web.int_arg(page, 1), web.int_arg(per_page, 25, 1, MAX_PER_PAGE)
        chosen = service.ReviewFilter(dealer_id, region_id, flag, review_state, sort)
        with web.input_errors():
            items, total = await service.list_reviews(
                chosen, _reviewer(request.user).region_only, page, per_page)
        return FlagReviewPage([flag_review_read(i) for i in items], total, page, per_page)

    @get("/{flag_review_id:uuid}")
    async def read(self, request: Request, flag_review_id: uuid.UUID) -> FlagReviewRead:
        return flag_review_read(found(await service.get_review(
            flag_review_id, _reviewer(request.user).region_only), WHAT))

    @post("/{flag_review_id:uuid}/decision", status_code=200)
    async def decide(self, request: Request, flag_review_id: uuid.UUID,
                     data: FlagDecisionWrite) -> FlagReviewRead:
        """Clear (genuine: counted from now on) or uphold (kept out); re-deciding is
        recorded."""
        with web.input_errors():
            decided = await service.decide(flag_review_id, data.decision, data.note,
                                           _reviewer(request.user))
        return flag_review_read(found(decided, WHAT))


def _described(invalid: InvalidInput) -> str:
    return "; ".join(f"{e.field}: {e.reason}" for e in invalid.errors)


def _filter_args(values: dict[str, Any]) -> dict[str, str]:
    return {name: str(values.get(name) or "") for name in ("dealer", "region", "flag",
                                                            "review_state", "sort")}


def _query(args: dict[str, str]) -> str:
    """The filters as a query string, to come back to the same view."""
    return urlencode({k: v for k, v in args.items() if v})


class FlagReviewPagesController(Controller):
    path = "/hq/survey/flags"
    guards = [oem_staff]
    include_in_schema = False

    async def _page(self, request: Request, args: dict[str, str], page_number: int,
                    error: str = "", status_code: int = 200) -> Template:
        chosen = service.ReviewFilter(as_uuid(args["dealer"]) if args["dealer"] else None,
                                      as_uuid(args["region"]) if args["region"] else None,
                                      args["flag"], args["review_state"],
                                      args["sort"] or "newest")
        region_only = _reviewer(request.user).region_only
        try:
            items, total = await service.list_reviews(chosen, region_only, page_number)
        except InvalidInput as invalid:
            items, total, status_code, error = [], 0, 400, _described(invalid)
        dealers = Dealer.select(Dealer.id, Dealer.code, Dealer.name).order_by(Dealer.code)
        regions = Region.select(Region.id, Region.name_zh, Region.name_en).order_by(Region.code)
        if region_only is not None:  # a regional manager picks among their own dealers
            dealers = dealers.where(Dealer.region == region_only)
            regions = regions.where(Region.id == region_only)
        return page(request, "survey/flag_reviews.html", status_code=status_code, items=items,
                    total=total, page_number=page_number,
                    pages=web.pages(total, service.PER_PAGE), args=args,
                    query=_query(args),
                    dealers=await dealers, regions=await regions, flags=service.FLAGS,
                    flag_labels=service.FLAG_LABELS, states=REVIEW_STATES,
                    state_labels=service.STATE_LABELS, error=error)

    @get("/")
    async def queue(self, request: Request, page_number: int = 1) -> Template:
        return await self._page(request, _filter_args(dict(request.query_params)),
                                web.int_arg(page_number, 1))

    @post("/{flag_review_id:uuid}/decision")
    async def decide(self, request: Request, flag_review_id: uuid.UUID) -> Any:
        form = await web.form_data(request)
        args = _filter_args(form)
        try:
            decided = await service.decide(flag_review_id, web.text(form, "decision"),
                                           web.text(form, "note"), _reviewer(request.user))
        except InvalidInput as invalid:
            return await self._page(request, args, 1, status_code=400,
                                    error=_described(invalid))
        found(decided, WHAT)
        query = _query(args)
        return Redirect(f"/hq/survey/flags?{query}" if query else "/hq/survey/flags",
                        status_code=303)
