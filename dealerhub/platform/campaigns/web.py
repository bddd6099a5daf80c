"""What the campaign controllers share: rendering with the code labels; paging, error
mapping and argument parsing come from the customer base's web helpers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from dealerhub.platform.campaigns.labels import LABELS
from dealerhub.platform.web import found, page
from dealerhub.tenants.web import (
    PAGE_SIZE,
    form_errors,
    input_errors,
    int_arg,
    page_count,
)

__all__ = ["PAGE_SIZE", "form_errors", "found", "input_errors", "int_arg", "page_count",
           "render"]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """A page in the shell with the display texts of stored codes."""
    return page(request, template, status_code=status_code, **LABELS, **context)
