"""What the customer base's controllers share: guards, form reading, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.response import Template

from dealerhub.platform.auth import DEALER_ROLES, requires_roles, requires_scope
from dealerhub.platform.web import found as found  # re-exported: controllers take it from here too
from dealerhub.platform.web import page
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.labels import label

# dealer staff in the portal; dealer staff or the dealer's integration keys in the API
dealer_pages = [requires_roles(*DEALER_ROLES)]
api_read = [requires_roles(*DEALER_ROLES, "integration"), requires_scope("read")]
api_write = [requires_roles(*DEALER_ROLES, "integration"), requires_scope("write")]
PAGE_SIZE = 25


def validation_error(invalid: InvalidInput) -> ValidationException:
    """A 400 naming every bad field."""
    return ValidationException(
        "invalid input", extra=[{"key": e.field, "message": e.reason} for e in invalid.errors])


@contextmanager
def input_errors() -> Iterator[None]:
    """Around a service call in the API: an InvalidInput raised inside becomes the 400."""
    try:
        yield
    except InvalidInput as invalid:
        raise validation_error(invalid) from None


def form_errors(invalid: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in invalid.errors:
        errors.setdefault(error.field, error.reason)
    return errors


async def form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: v for k, v in form.items() if not k.startswith("_csrf")}


def page_count(total: int, per_page: int = PAGE_SIZE) -> int:
    """How many pages `total` rows fill; an empty list is still one page."""
    return max(1, -(-total // per_page))


def int_arg(value: str | int | None, default: int, minimum: int = 1, maximum: int = 10_000) -> int:
    try:
        return max(minimum, min(maximum, int(value))) if value is not None else default
    except (TypeError, ValueError):
        return default


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """A page in the shell, with `label(kind, code)` for the display text of stored codes."""
    return page(request, template, status_code=status_code, label=label, **context)
