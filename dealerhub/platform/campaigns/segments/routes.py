"""Segments: the builder page with its live count (HTMX), and the JSON API."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import dealer_staff
from dealerhub.platform.campaigns.segments import service
from dealerhub.platform.campaigns.segments.fields import FIELDS
from dealerhub.platform.campaigns.segments.schemas import (
    SegmentCount,
    SegmentDefinition,
    SegmentRead,
    SegmentWrite,
)
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


def _read(row: service.Segment, count: int | None = None) -> SegmentRead:
    return SegmentRead(row.id, row.name, row.definition, row.created_at, count)


class SegmentApiController(Controller):
    path = "/api/v1/segments"
    tags = ["segments"]
    guards = [dealer_staff]

    @post("/count", status_code=200)
    async def count(self, request: Request, data: SegmentDefinition) -> SegmentCount:
        """How many customers a definition selects (what the builder shows while editing)."""
        with input_errors():
            return SegmentCount(await service.count_segment(request.user.tenant_id, data))

    @post("/")
    async def create(self, request: Request, data: SegmentWrite) -> SegmentRead:
        with input_errors():
            row = await service.save_segment(request.user.tenant_id, data.name, data.definition)
        return _read(row)

    @get("/")
    async def list_segments(self, request: Request, page: int = 1) -> list[SegmentRead]:
        rows, _ = await service.list_segments(request.user.tenant_id, page=page)
        return [_read(row) for row in rows]

    @get("/{segment_id:uuid}")
    async def read(self, request: Request, segment_id: uuid.UUID) -> SegmentRead:
        row = found(await service.get_segment(request.user.tenant_id, segment_id), "segment")
        return _read(row, await service.count_segment(request.user.tenant_id, row.definition))


class SegmentPagesController(Controller):
    path = "/campaigns/segments"
    guards = [dealer_staff]
    include_in_schema = False

    async def _page(self, request: Request, status_code: int = 200, **context: object
                    ) -> Template:
        params = request.query_params
        number = int_arg(params.get("page"), 1)
        sort = params.get("sort") or "created_at"
        rows, total = await service.list_segments(request.user.tenant_id, page=number,
                                                  sort=sort, descending=sort != "name")
        context.setdefault("form", {})
        context.setdefault("errors", {})
        context.setdefault("count", await service.count_segment(request.user.tenant_id,
                                                                SegmentDefinition()))
        return render(request, "campaigns/segments.html", status_code=status_code,
                      segments=rows, total=total, page_number=number, sort=sort,
                      pages=page_count(total, PAGE_SIZE), fields=FIELDS, **context)

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @post("/count")
    async def live_count(self, request: Request) -> Template:
        """The count fragment the builder swaps in as the user edits."""
        form = dict(await request.form())
        try:
            definition = service.definition_from_form(form)
            count = await service.count_segment(request.user.tenant_id, definition)
            return render(request, "campaigns/segment_count.html", count=count, errors={})
        except InvalidInput as invalid:
            return render(request, "campaigns/segment_count.html", count=None,
                          errors=form_errors(invalid))

    @post("/")
    async def save(self, request: Request) -> Template | Redirect:
        form = dict(await request.form())
        try:
            definition = service.definition_from_form(form)
            await service.save_segment(request.user.tenant_id, str(form.get("name", "")),
                                       definition)
        except InvalidInput as invalid:
            return await self._page(request, 400, form=form,
                                    errors=form_errors(invalid))
        return Redirect("/campaigns/segments")
