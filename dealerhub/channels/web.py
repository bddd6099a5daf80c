"""What the channels controllers share: turning a service's field error into a 400."""

from __future__ import annotations

from litestar.exceptions import ValidationException


def invalid(field: str, message: str) -> ValidationException:
    return ValidationException(message, extra=[{"key": field, "message": message}])
