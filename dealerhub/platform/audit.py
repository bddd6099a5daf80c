"""Every state-changing request leaves an audit record: who, which dealer, what, when; and
so does every read of a customer's personal data, so an auditor can list who read or
changed a customer record.

Reads are opted in per route (`opt=AUDIT_READS`), so other GETs pass straight through: one
attribute lookup. An audited read or a write costs one insert into `audit_log`, after the
response has been sent. The customer is the route's `customer_id` path parameter, or what
the handler names with `note_customer` (a vehicle's owner, a customer just created).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dealerhub.platform.tables import AuditLog

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRAIL_ACTIONS = {"read": ["GET"], "change": sorted(STATE_CHANGING)}
AUDIT_ACTOR_KEY = "dealerhub.audit_actor"
AUDIT_CUSTOMER_KEY = "dealerhub.audit_customer"
AUDIT_READS = {"audit_customer_reads": True}


def note_customer(connection: ASGIConnection, customer_id: uuid.UUID | None) -> None:
    """Name the customer whose record this request reads or changes."""
    connection.scope[AUDIT_CUSTOMER_KEY] = customer_id  # type: ignore[literal-required]


def _audited_read(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return handler is not None and handler.opt.get("audit_customer_reads", False)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope.get("method") not in STATE_CHANGING and not _audited_read(scope)
        ):
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
            customer_id = _customer_of(scope)
            if scope.get("method") in STATE_CHANGING or (customer_id and status["code"] < 400):
                await record(scope, status["code"], customer_id)


def _customer_of(scope: Scope) -> uuid.UUID | None:
    named = scope.get(AUDIT_CUSTOMER_KEY)
    if named is not None:
        return named
    from_path = scope.get("path_params", {}).get("customer_id")
    return from_path if isinstance(from_path, uuid.UUID) else None


async def record(scope: Scope, status_code: int, customer_id: uuid.UUID | None = None) -> None:
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
                customer_id=customer_id,
            )
        )
    except Exception:
        log.exception("could not write the audit record for %s", scope.get("path"))


@dataclass(frozen=True)
class TrailPage:
    rows: list[dict]
    total: int


async def customer_trail(
    tenant_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> TrailPage:
    """Who read or changed the dealer's customer records, newest first. `action` is
    "read" or "change"; `until` is exclusive."""
    conditions = [AuditLog.tenant_id == tenant_id, AuditLog.customer_id.is_not_null()]
    if customer_id is not None:
        conditions.append(AuditLog.customer_id == customer_id)
    if user_id is not None:
        conditions.append(AuditLog.user_id == user_id)
    if since is not None:
        conditions.append(AuditLog.at >= since)
    if until is not None:
        conditions.append(AuditLog.at < until)
    if action is not None:
        conditions.append(AuditLog.action.is_in(TRAIL_ACTIONS[action]))
    rows = (
        await AuditLog.select(
            AuditLog.at, AuditLog.user_id, AuditLog.actor, AuditLog.action, AuditLog.target,
            AuditLog.status_code, AuditLog.ip, AuditLog.customer_id,
        )
        .where(*conditions)
        .order_by(AuditLog.at, AuditLog.id, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return TrailPage(rows, await AuditLog.count().where(*conditions))
