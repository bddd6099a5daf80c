"""Every controller of the survey component, its templates, static files and navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from dealerhub.survey import tasks as _tasks  # noqa: F401 - consumers, templates, timeline
from dealerhub.survey.answers.routes import CustomerSurveyController

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SURVEY_ROUTES: list[Any] = [
    CustomerSurveyController,
    create_static_files_router(path="/static/survey", directories=[STATIC],
                               include_in_schema=False),
]
