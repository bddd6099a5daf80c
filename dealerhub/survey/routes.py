"""Every controller of the survey component, its templates, static files and navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from dealerhub.platform.auth import DEALER_ROLES, OEM_ROLES, CurrentUser
from dealerhub.platform.web import register_nav, register_tile
from dealerhub.survey import tasks as _tasks  # noqa: F401 - consumers, templates, timeline
from dealerhub.survey.answers.routes import CustomerSurveyController
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.complaints.routes import ComplaintApiController, ComplaintPagesController
from dealerhub.survey.integrity.routes import FlagReviewApiController, FlagReviewPagesController
from dealerhub.survey.questions.routes import QuestionApiController, QuestionPagesController
from dealerhub.survey.results.routes import NationalResultsController, ResultsPagesController
from dealerhub.survey.touchpoints.routes import CallListController

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SURVEY_ROUTES: list[Any] = [
    CustomerSurveyController,
    ComplaintPagesController,
    ComplaintApiController,
    CallListController,
    ResultsPagesController,
    NationalResultsController,
    FlagReviewPagesController,
    FlagReviewApiController,
    QuestionApiController,
    QuestionPagesController,
    create_static_files_router(path="/static/survey", directories=[STATIC],
                               include_in_schema=False),
]

register_nav("dealer", "/survey/results", "Survey results", DEALER_ROLES, order=40)
register_nav("dealer", "/complaints", "Complaints", DEALER_ROLES, order=41)
register_nav("dealer", "/survey/calls", "Call list", {"cs_agent", "dealer_admin"}, order=42)
register_nav("dealer", "/survey/questions", "Question bank", DEALER_ROLES, order=43)
register_nav("hq", "/hq/survey", "National survey results", OEM_ROLES, order=40)
register_nav("hq", "/hq/survey/questions", "Question bank", OEM_ROLES, order=41)
register_nav("hq", "/hq/survey/flags", "Flagged responses", OEM_ROLES, order=42)


async def _unread_alerts(user: CurrentUser) -> int:
    return await complaints.unread_alerts(user.tenant_id)  # type: ignore[arg-type]


register_tile("dealer", "/complaints", "Unread survey alerts", DEALER_ROLES, _unread_alerts,
              order=40)
