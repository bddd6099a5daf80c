"""What the channels controllers share: turning a service's field error into a 400, and a
missing object into a 404."""

from __future__ import annotations

from litestar.exceptions import ValidationException

from dealerhub.platform.web import found

__all__ = ["found", "invalid"]


def invalid(field: str, message: str) -> ValidationException:
    return ValidationException(message, extra=[{"key": field, "message": message}])
