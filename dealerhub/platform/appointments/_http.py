"""How the service's refusals read over HTTP: 400 naming the field, 404, 409."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from dealerhub.platform.appointments._availability import NotFoundError
from dealerhub.platform.appointments._booking import SlotTaken, StateError
from dealerhub.platform.appointments._capacity import CapacityError

REFUSALS = (CapacityError, NotFoundError, SlotTaken, StateError)


@contextmanager
def http_errors() -> Iterator[None]:
    try:
        yield
    except CapacityError as error:
        raise ValidationException(str(error), extra=[{"key": error.field,
                                                      "message": error.message}]) from None
    except NotFoundError as error:
        raise NotFoundException(str(error)) from None
    except SlotTaken as error:
        raise HTTPException(status_code=409, detail=f"starts_at: {error}") from None
    except StateError as error:
        raise HTTPException(status_code=409, detail=str(error),
                            extra=[{"key": error.field, "message": error.message}]) from None
