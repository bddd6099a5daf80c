"""What the survey controllers share: the caller as a complaint actor, paging, errors."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import PermissionDeniedException

from dealerhub.platform.auth import DEALER_ROLES, requires_roles
from dealerhub.survey.complaints.service import Actor
from dealerhub.tenants.web import (
    form_data,
    form_errors,
    input_errors,
    int_arg,
    validation_error,
)
from dealerhub.tenants.web import page_count as pages

PER_PAGE = 25
dealer_pages = [requires_roles(*DEALER_ROLES)]

__all__ = ["PER_PAGE", "actor", "dealer_pages", "form_data", "form_errors", "input_errors",
           "int_arg", "pages", "refused", "text", "validation_error"]


def actor(request: Request) -> Actor:
    return Actor(request.user.id, request.user.role)


def refused(error: Exception) -> PermissionDeniedException:
    return PermissionDeniedException(str(error))


def text(form: dict[str, Any], name: str) -> str:
    return str(form.get(name) or "").strip()
