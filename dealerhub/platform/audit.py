"""Every state-changing request leaves an audit record: who, which dealer, what, when; and
so does every read of a customer's personal data, so an auditor can list who read or
changed a customer record.

Reads are opted in per route (`opt=AUDIT_READS`), so other GETs pass straight through: one
attribute lookup. A write is recorded by its own insert after the response (as before); an
audited read only joins a buffer that one multi-row insert writes every
READ_FLUSH_SECONDS (or at READ_FLUSH_ROWS), because a commit per read made the read 4×
slower on SQLite. Routes opted in with `opt=AUDIT_BUFFERED_WRITES` (the car owner's survey
page: thousands of anonymous answers an hour) put their writes into the same buffer.
Records of the last half second can be lost if the process dies; the trail listing and
shutdown flush the buffer first. The customer is the route's
`customer_id` path parameter, or what the handler names with `note_customer` (a
vehicle's owner, a customer just created).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dealerhub.platform.db import fetch
from dealerhub.platform.tables import AuditLog

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRAIL_ACTIONS = {"read": ["GET"], "change": sorted(STATE_CHANGING)}
AUDIT_ACTOR_KEY = "dealerhub.audit_actor"
AUDIT_CUSTOMER_KEY = "dealerhub.audit_customer"
AUDIT_READS = {"audit_customer_reads": True}
# A route's writes joining the read buffer instead of an INSERT each: the car owner's pages
# behind signed links, whose business rows already record what was done and from where.
AUDIT_BUFFERED_WRITES = {"audit_buffered_writes": True}
READ_FLUSH_SECONDS = 0.5
READ_FLUSH_ROWS = 500
# Buffered reads are plain tuples in READ_COLUMNS order: building Piccolo objects and their
# INSERT cost more CPU than the rest of the read.
READ_COLUMNS = ("id", "created_at", "at", "user_id", "actor", "tenant_id", "action", "target",
                "status_code", "ip", "customer_id")
_pending_reads: list[tuple[Any, ...]] = []
# One pending flush per event loop (the API's, a test client's): a task of a loop that
# closed must not stop the next loop from scheduling its own.
_flush_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary())


def note_customer(connection: ASGIConnection, customer_id: uuid.UUID | None) -> None:
    """Name the customer whose record this request reads or changes."""
    connection.scope[AUDIT_CUSTOMER_KEY] = customer_id  # type: ignore[literal-required]


def _opted(scope: Scope, option: str) -> bool:
    handler = scope.get("route_handler")
    return handler is not None and handler.opt.get(option, False)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope.get("method") not in STATE_CHANGING
            and not _opted(scope, "audit_customer_reads")
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
            if scope.get("method") not in STATE_CHANGING:
                if customer_id and status["code"] < 400:
                    await _buffer(scope, status["code"], customer_id)
            elif _opted(scope, "audit_buffered_writes"):
                await _buffer(scope, status["code"], customer_id)
            else:
                await record(scope, status["code"], customer_id)


def _customer_of(scope: Scope) -> uuid.UUID | None:
    named = scope.get(AUDIT_CUSTOMER_KEY)
    if named is not None:
        return named
    from_path = scope.get("path_params", {}).get("customer_id")
    return from_path if isinstance(from_path, uuid.UUID) else None


def _who(scope: Scope) -> tuple[uuid.UUID | None, str, uuid.UUID | None, str]:
    user = scope.get("user")
    client = scope.get("client")
    actor = getattr(user, "email", None) or scope.get(AUDIT_ACTOR_KEY) or "anonymous"
    return getattr(user, "id", None), actor, getattr(user, "tenant_id", None), (
        client[0] if client else "")


def _row(scope: Scope, status_code: int, customer_id: uuid.UUID | None) -> tuple[Any, ...]:
    """One audit record in READ_COLUMNS order."""
    user_id, actor, tenant_id, ip = _who(scope)
    now = datetime.now(UTC)
    return (uuid.uuid4(), now, now, user_id, actor, tenant_id, scope.get("method", ""),
            scope.get("path", "")[:500], status_code, ip, customer_id)


async def _insert(rows: list[tuple[Any, ...]]) -> None:
    """One plain multi-row INSERT (building Piccolo objects cost more than the write)."""
    one = "(" + ", ".join(["{}"] * len(READ_COLUMNS)) + ")"
    await fetch(f"insert into audit_log ({', '.join(READ_COLUMNS)}) values "
                + ", ".join([one] * len(rows)), *(value for row in rows for value in row))


async def record(scope: Scope, status_code: int, customer_id: uuid.UUID | None = None) -> None:
    try:
        await _insert([_row(scope, status_code, customer_id)])
    except Exception:
        log.exception("could not write the audit record for %s", scope.get("path"))


async def _buffer(scope: Scope, status_code: int, customer_id: uuid.UUID | None) -> None:
    _pending_reads.append(_row(scope, status_code, customer_id))
    if len(_pending_reads) >= READ_FLUSH_ROWS:
        await flush_reads()
    else:
        loop = asyncio.get_running_loop()
        if loop not in _flush_tasks:
            _flush_tasks[loop] = loop.create_task(_flush_soon())


async def _flush_soon() -> None:
    await asyncio.sleep(READ_FLUSH_SECONDS)
    _flush_tasks.pop(asyncio.get_running_loop(), None)
    await flush_reads()


async def flush_reads() -> None:
    """Write the buffered reads in one statement (listing the trail and shutdown call it)."""
    rows = _pending_reads[:]
    _pending_reads.clear()
    if not rows:
        return
    try:
        await _insert(rows)
    except Exception:
        log.exception("could not write %d audited reads", len(rows))


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
    await flush_reads()
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
