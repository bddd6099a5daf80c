"""Headquarters benchmark views (`/hq/scoring…`, OEM staff) and the dealer's own scorecard
(`/scorecard…`, dealer staff: its own figures against anonymous distributions only)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from litestar.static_files import create_static_files_router

from dealerhub.admin import reports
from dealerhub.platform.auth import (
    DEALER_ROLES,
    OEM_ROLES,
    CurrentUser,
    dealer_staff,
    oem_admin_only,
    oem_staff,
)
from dealerhub.platform.scoring import service
from dealerhub.platform.scoring.metrics import BENCHMARKED, METRICS, SERVICE_CHAIN, STEP_NAMES
from dealerhub.platform.web import found, page, register_nav
from dealerhub.platform.web.i18n import request_locale
from dealerhub.platform.web.routes import dealer_name

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
register_nav("hq", "/hq/scoring", "Benchmarks", OEM_ROLES, order=20)
register_nav("hq", "/hq/scoring/settings", "Score weights", OEM_ROLES, order=25)
register_nav("dealer", "/scorecard", "Scorecard", DEALER_ROLES, order=60)


def _period(grain: str, period: str | None) -> Any:
    try:
        return service.parse_period(grain, period)
    except service.ScoringInputError as bad:
        raise ValidationException(
            f"{bad.field}: {bad.message}", extra=[{"key": bad.field, "message": bad.message}]
        ) from None


def _metric(metric_key: str) -> Any:
    metric = METRICS.get(metric_key)
    if metric is None or not metric.benchmarked:
        raise NotFoundException("no such metric")
    return metric


def _common(request: Request, grain: str, start: Any) -> dict[str, Any]:
    return {
        "grain": grain,
        "start": start,
        "grains": service.GRAINS,
        "steps": STEP_NAMES,
        "chain": SERVICE_CHAIN,
        "zh": request_locale(request) == "zh-CN",
    }


def _download(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def _scorecard_or_404(dealer_id: uuid.UUID, grain: str, start: Any, group: str = "national"):
    return found(await service.scorecard(dealer_id, grain, start, group), "dealer")


class HqScoringController(Controller):
    path = "/hq/scoring"
    guards = [oem_staff]
    include_in_schema = False

    @get("/")
    async def dashboard(
        self, request: Request, grain: str = "month", period: str | None = None
    ) -> Template:
        start = _period(grain, period)
        user: CurrentUser = request.user
        league = await service.league_table(grain, start)
        dists = await service.national_distributions(grain, start)
        movers = sorted(
            (row for row in league if row.movement is not None), key=lambda r: -(r.movement or 0)
        )
        return page(
            request,
            "hq_scoring.html",
            league=league,
            regions=await service.region_summary(grain, start),
            distributions=dists,
            chart=reports.distribution_chart(BENCHMARKED, dists, request_locale(request)),
            metrics=BENCHMARKED,
            risers=movers[:5],
            fallers=[row for row in reversed(movers) if (row.movement or 0) < 0][:5],
            alerts=await service.alerts_for(region_id=user.region_id),
            dealer_names={row.dealer["id"]: row.dealer["name"] for row in league},
            **_common(request, grain, start),
        )

    @get("/league.csv")
    async def league_csv(self, grain: str = "month", period: str | None = None) -> Response:
        start = _period(grain, period)
        rows = await service.league_table(grain, start)
        body = reports.league_csv(rows, [m.key for m in BENCHMARKED])
        return _download(body, "text/csv; charset=utf-8", f"league-{grain}-{start}.csv")

    @get("/dealers/{dealer_id:uuid}")
    async def dealer(
        self, request: Request, dealer_id: uuid.UUID, grain: str = "month",
        period: str | None = None, group: str = "national",
    ) -> Template:
        start = _period(grain, period)
        card = await _scorecard_or_404(dealer_id, grain, start, group)
        return page(
            request,
            "hq_dealer.html",
            card=card,
            dealer_name=await dealer_name(dealer_id),
            staff=await service.staff_scores(dealer_id, grain, start),
            staff_names=await service.staff_names(dealer_id),
            chart=reports.chart_data(card, request_locale(request)),
            group=group,
            **_common(request, grain, start),
        )

    @get("/dealers/{dealer_id:uuid}/report.png")
    async def dealer_png(
        self, request: Request, dealer_id: uuid.UUID, grain: str = "month",
        period: str | None = None,
    ) -> Response:
        start = _period(grain, period)
        card = await _scorecard_or_404(dealer_id, grain, start)
        png = reports.scorecard_png(card, await dealer_name(dealer_id), request_locale(request))
        return _download(png, "image/png", f"scorecard-{start}.png")

    @get("/compare")
    async def compare(
        self, request: Request, dealer: list[uuid.UUID] | None = None, grain: str = "month",
        period: str | None = None,
    ) -> Template:
        start = _period(grain, period)
        chosen = (dealer or [])[:6]
        cards = [await service.scorecard(d, grain, start) for d in chosen]
        league = await service.league_table(grain, start)
        return page(
            request,
            "hq_compare.html",
            cards=[c for c in cards if c is not None],
            names={row.dealer["id"]: row.dealer["name"] for row in league},
            league=league,
            chosen=chosen,
            metrics=BENCHMARKED,
            **_common(request, grain, start),
        )

    @get("/metrics/{metric_key:str}")
    async def metric(
        self, request: Request, metric_key: str, grain: str = "month", period: str | None = None,
        region: uuid.UUID | None = None,
    ) -> Template:
        metric = _metric(metric_key)
        start = _period(grain, period)
        league = await service.league_table(grain, start, region)
        rows = [r for r in league if metric.key in r.values]
        rows.sort(
            key=lambda r: (r.values[metric.key].value is None,
                           (1 if metric.higher_is_better else -1)
                           * (r.values[metric.key].value or 0))
        )
        return page(
            request,
            "hq_metric.html",
            metric=metric,
            rows=rows,
            regions=await service.region_summary(grain, start),
            region=region,
            distribution=(await service.national_distributions(grain, start)).get(metric.key),
            **_common(request, grain, start),
        )

    @get("/settings")
    async def settings_form(self, request: Request) -> Template:
        return page(
            request, "hq_settings.html", settings=await service.current_settings(), error=None,
            **_common(request, "month", None),
        )

    @post("/settings", guards=[oem_admin_only])
    async def save_settings(
        self,
        request: Request,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Any:
        user: CurrentUser = request.user
        try:
            weights, targets = service.parse_settings_form(data)
            await service.save_settings(weights, targets, user.id)
        except service.ScoringInputError as bad:
            return page(
                request, "hq_settings.html", status_code=400,
                settings=await service.current_settings(),
                error=f"{bad.field}: {bad.message}", **_common(request, "month", None),
            )
        return Redirect("/hq/scoring/settings", status_code=303)


class ScorecardController(Controller):
    """The dealer's own scorecard: its name only, never another dealer's."""

    path = "/scorecard"
    guards = [dealer_staff]
    include_in_schema = False

    @get("/")
    async def scorecard(
        self, request: Request, grain: str = "month", period: str | None = None,
        group: str = "national",
    ) -> Template:
        user: CurrentUser = request.user
        start = _period(grain, period)
        card = await _scorecard_or_404(user.tenant_id, grain, start, group)  # type: ignore[arg-type]
        staff = []
        if user.role == "dealer_admin":
            staff = await service.staff_scores(user.tenant_id, grain, start)  # type: ignore[arg-type]
        return page(
            request,
            "scorecard.html",
            card=card,
            dealer_name=await dealer_name(user.tenant_id),
            staff=staff,
            staff_names=await service.staff_names(user.tenant_id) if staff else {},  # type: ignore[arg-type]
            chart=reports.chart_data(card, request_locale(request)),
            group=group,
            **_common(request, grain, start),
        )

    @get("/records")
    async def records(
        self, request: Request, metric: str, grain: str = "month", period: str | None = None
    ) -> Template:
        user: CurrentUser = request.user
        found = _metric(metric)
        start = _period(grain, period)
        rows = await service.metric_records(user.tenant_id, found.key, grain, start)  # type: ignore[arg-type]
        return page(
            request, "scorecard_records.html", metric=found, records=rows,
            **_common(request, grain, start),
        )

    @get("/export.csv")
    async def export_csv(
        self, request: Request, grain: str = "month", period: str | None = None
    ) -> Response:
        return await _own_scorecard_file(request, grain, period, "csv")

    @get("/report.png")
    async def export_png(
        self, request: Request, grain: str = "month", period: str | None = None
    ) -> Response:
        return await _own_scorecard_file(request, grain, period, "png")


SCORECARD_FILES = {
    "csv": (reports.scorecard_csv, "text/csv; charset=utf-8"),
    "png": (reports.scorecard_png, "image/png"),
}


async def _own_scorecard_file(request: Request, grain: str, period: str | None,
                              kind: str) -> Response:
    """The signed-in dealer's scorecard as a spreadsheet or a one-page picture."""
    user: CurrentUser = request.user
    start = _period(grain, period)
    card = await _scorecard_or_404(user.tenant_id, grain, start)  # type: ignore[arg-type]
    render, media_type = SCORECARD_FILES[kind]
    body = render(card, await dealer_name(user.tenant_id), request_locale(request))
    return _download(body, media_type, f"scorecard-{grain}-{start}.{kind}")


ADMIN_ROUTES = [
    HqScoringController,
    ScorecardController,
    create_static_files_router(
        path="/static/scoring", directories=[STATIC], include_in_schema=False
    ),
]
