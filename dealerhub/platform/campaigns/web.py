"""What the campaign controllers share: error mapping and paging arguments."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.response import Template

from dealerhub.platform.campaigns.labels import LABELS
from dealerhub.platform.web import page
from dealerhub.tenants.fields import InvalidInput

PAGE_SIZE = 25


def validation_error(invalid: InvalidInput) -> ValidationException:
    """A 400 naming every bad field."""
    return ValidationException(
        "invalid input", extra=[{"key": e.field, "message": e.reason} for e in invalid.errors])


def page_count(total: int, per_page: int = PAGE_SIZE) -> int:
    return max(1, -(-total // per_page))


def int_arg(value: str | None, default: int, minimum: int = 1, maximum: int = 10_000) -> int:
    try:
        return max(minimum, min(maximum, int(value))) if value else default
    except ValueError:
        return default


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """A page in the shell with the display texts of stored codes."""
    return page(request, template, status_code=status_code, **LABELS, **context)
