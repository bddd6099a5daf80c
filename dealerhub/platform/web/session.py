"""Server-side sessions whose id is replaced at sign-in (no session fixation)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Message, ScopeSession

ROTATE_KEY = "dealerhub.rotated_session_id"
SESSION_COOKIE = "dh_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        rotated = connection.scope.get(ROTATE_KEY)  # type: ignore[call-overload]
        if rotated:
            return rotated
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        """A visitor who has no session and put nothing in one gets none: no store write and
        no cookie (Litestar stores an empty session for every anonymous request, which on the
        public pages - a survey answer, a booking link - was a store write per request)."""
        if (
            not scope_session
            and not connection.cookies.get(self.config.key)
            and not connection.scope.get(ROTATE_KEY)  # type: ignore[call-overload]
        ):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


async def rotate_session(connection: ASGIConnection, config: RotatingSessionConfig) -> None:
    """Forget the old session id and have the response set a fresh one."""
    old_id = connection.cookies.get(config.key)
    if old_id:
        await config.get_store_from_app(connection.app).delete(old_id)
    backend = RotatingSessionBackend(config)
    connection.scope[ROTATE_KEY] = backend.generate_session_id()  # type: ignore[literal-required]
