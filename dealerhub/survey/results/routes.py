"""Survey results pages: the dealer's results, and headquarters' national view."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get
from litestar.response import Template

from dealerhub.platform.auth import oem_staff
from dealerhub.platform.web import page
from dealerhub.platform.web.i18n import gettext_for, request_locale
from dealerhub.survey import web
from dealerhub.survey.common import as_uuid
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.integrity.service import FLAG_LABELS, STATE_LABELS
from dealerhub.survey.questions.tables import STEPS
from dealerhub.survey.results import service

PERIODS = (30, 90, 180, 365)
STEP_LABELS = {"retention": "Retention", "appointment": "Appointment",
               "reception": "Reception", "estimate": "Needs and estimate", "repair": "Repair",
               "care": "Care and updates", "delivery": "Delivery", "follow_up": "Follow-up",
               "overall": "Overall"}


def _days(value: int) -> int:
    return value if value in PERIODS else 90


class ResultsPagesController(Controller):
    path = "/survey"
    guards = web.dealer_pages
    include_in_schema = False

    @get("/results")
    async def results(self, request: Request, days: int = 90, page_number: int = 1) -> Template:
        _ = gettext_for(request_locale(request))
        tid = request.user.tenant_id
        found = await service.dealer_results(tid, _days(days))
        page_number = web.int_arg(page_number, 1)
        words, total = await service.verbatims(tid, page_number, 20)
        trend = {"labels": {"csat": _("CSAT %"), "nps": _("NPS")}, "points": found.trend}
        return page(request, "survey/results.html", r=found, days=_days(days), periods=PERIODS,
                    verbatims=words, page_number=page_number, pages=web.pages(total, 20),
                    trend=trend, step_labels=STEP_LABELS,
                    flagged=await service.flagged_invitations(tid),
                    flag_labels=FLAG_LABELS, state_labels=STATE_LABELS)


class NationalResultsController(Controller):
    path = "/hq/survey"
    guards = [oem_staff]
    include_in_schema = False

    @get("/")
    async def national(self, request: Request, days: int = 90, region: str = "") -> Template:
        _ = gettext_for(request_locale(request))
        region_id: uuid.UUID | None = as_uuid(region) if region else None
        found = await service.national_results(_days(days), region_id)
        steps = {"label": _("Mean score (0–100)"), "points": [
            {"label": _(STEP_LABELS[s.step]), "mean": s.mean, "weak": s.weak}
            for s in found.steps if s.mean is not None]}
        return page(request, "survey/national.html", r=found, days=_days(days),
                    periods=PERIODS, steps=steps, step_labels=STEP_LABELS, all_steps=STEPS,
                    escalations=await complaints.escalations(region_id))
