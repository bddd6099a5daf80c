"""Every state-changing request leaves an audit record: who, which dealer, what, when."""

from __future__ import annotations

import logging

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dealerhub.platform.tables import AuditLog

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDIT_ACTOR_KEY = "dealerhub.audit_actor"


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await record(scope, status["code"])


async def record(scope: Scope, status_code: int) -> None:
    user = scope.get("user")
    client = scope.get("client")
    try:
        await AuditLog.insert(
            AuditLog(
                user_id=getattr(user, "id", None),
                actor=getattr(user, "email", None) or scope.get(AUDIT_ACTOR_KEY) or "anonymous",
                tenant_id=getattr(user, "tenant_id", None),
                action=scope.get("method", ""),
                target=scope.get("path", "")[:500],
                status_code=status_code,
                ip=client[0] if client else "",
            )
        )
    except Exception:
        log.exception("could not write the audit record for %s", scope.get("path"))
