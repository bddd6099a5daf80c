"""The API's refusals are RFC 9457 problem documents, and the published OpenAPI schema says
so: Litestar documents its own `{status_code, detail, extra}` body for the 400s it knows of,
which is not what an integrator receives."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"
T = TypeVar("T")

DESCRIPTIONS = {
    400: "Bad input: `errors` names each field and what is wrong with it",
    401: "Not signed in, or the token or API key is not valid (any more)",
    403: "Signed in, but this role or API key scope may not do this",
    404: "No such object for this dealer (another dealer's object is a 404 too)",
}


class FieldError(msgspec.Struct, omit_defaults=True):
    message: str
    key: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457: `title` is human-readable; `errors` lists the fields at fault on a 400."""

    type: str
    status: int
    title: str
    errors: list[FieldError] | None = None


def found(row: T | None, what: str) -> T:
    """The row, or a 404 `no such <what>` (another dealer's object is not found either)."""
    if row is None:
        raise NotFoundException(f"no such {what}")
    return row


def problem_body(exc: HTTPException) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "status": exc.status_code,
                            "title": exc.detail or "error"}
    if exc.extra:
        body["errors"] = exc.extra
    return body


def problem_statuses(handler: HTTPRouteHandler, route: HTTPRoute, signed_in: bool) -> set[int]:
    """What this operation can refuse with: bad input always; sign-in and role refusals where
    it needs a principal; 404 where the path names an object; and whatever it declares."""
    statuses = {400} | {exc.status_code for exc in handler.raises or ()}
    if signed_in:
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)
    return {status for status in statuses if 400 <= status < 500}


class ProblemResponses(ReceiveRoutePlugin):
    """Declares the problem document for every 4xx of every API operation as routes arrive."""

    def __init__(self, public_paths: tuple[str, ...]) -> None:
        self.public_paths = public_paths

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        signed_in = not route.path.startswith(self.public_paths)
        for handler in route.route_handlers:
            declared = dict(handler.responses or {})
            for status in sorted(problem_statuses(handler, route, signed_in)):
                declared.setdefault(status, ResponseSpec(
                    data_container=Problem,
                    media_type=PROBLEM_MEDIA_TYPE,
                    description=DESCRIPTIONS.get(status, "Refused"),
                    generate_examples=False,
                ))
            handler.responses = declared
