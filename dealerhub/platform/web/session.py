"""Server-side sessions whose id is replaced at sign-in (no session fixation)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)

ROTATE_KEY = "dealerhub.rotated_session_id"
SESSION_COOKIE = "dh_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        rotated = connection.scope.get(ROTATE_KEY)  # type: ignore[call-overload]
        if rotated:
            return rotated
        return super().get_session_id(connection)


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
