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

A list read (a search, a board, a queue: many customers on one page) is one row naming the
route and its query (phones and e-mail addresses masked as in the logs) and how many
customers it showed, plus one narrow `audit_customer_shown` row per customer the handler
named with `note_customers_shown`. Both join the same buffer and are written by the same
flush (one statement on PostgreSQL, sending two values a customer), so a search costs no
round trip of its own, and "who saw customer X" is one index range per table instead of a
scan of every list read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dealerhub.platform.db import fetch, is_postgres
from dealerhub.platform.log_redaction import redact
from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import transaction

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The kinds an auditor filters by: a record's read, a change, a list read (many customers).
TRAIL_ACTIONS = ("read", "change", "list")
AUDIT_ACTOR_KEY = "dealerhub.audit_actor"
AUDIT_CUSTOMER_KEY = "dealerhub.audit_customer"
AUDIT_SHOWN_KEY = "dealerhub.audit_shown"
AUDIT_READS = {"audit_customer_reads": True}
# A route's writes joining the read buffer instead of an INSERT each: the car owner's pages
# behind signed links, whose business rows already record what was done and from where.
AUDIT_BUFFERED_WRITES = {"audit_buffered_writes": True}
READ_FLUSH_SECONDS = 0.5
READ_FLUSH_ROWS = 500
SHOWN_FLUSH_ROWS = 20_000
# Buffered reads are plain tuples in READ_COLUMNS order: building Piccolo objects and their
# INSERT cost more CPU than the rest of the read.
READ_COLUMNS = ("id", "created_at", "at", "user_id", "actor", "tenant_id", "action", "target",
                "status_code", "ip", "customer_id", "query", "shown")
SHOWN_COLUMNS = ("audit_id", "tenant_id", "customer_id", "created_at")
# SQLite takes up to 32,766 parameters a statement
SQLITE_PARAMETERS = 30_000
_pending_reads: list[tuple[Any, ...]] = []
_pending_shown: list[tuple[Any, ...]] = []
# One pending flush per event loop (the API's, a test client's): a task of a loop that
# closed must not stop the next loop from scheduling its own.
_flush_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary())
_flush_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


def note_customer(connection: ASGIConnection, customer_id: uuid.UUID | None) -> None:
    """Name the customer whose record this request reads or changes."""
    connection.scope[AUDIT_CUSTOMER_KEY] = customer_id  # type: ignore[literal-required]


def note_customers_shown(connection: ASGIConnection,
                         customer_ids: Iterable[uuid.UUID | None]) -> None:
    """Name the customers a list read shows (the route needs `opt=AUDIT_READS`): the read is
    recorded once and linked to each of them. Calls add up (a board and its alerts)."""
    shown = connection.scope.setdefault(AUDIT_SHOWN_KEY, {})  # type: ignore[misc]
    shown.update(dict.fromkeys(c for c in customer_ids if c is not None))


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
                shown = scope.get(AUDIT_SHOWN_KEY)
                if status["code"] < 400 and (shown is not None or customer_id):
                    await _buffer(scope, status["code"], None if shown is not None else customer_id,
                                  shown)
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


def _query(scope: Scope) -> str:
    """The query string as the user typed it, phones and e-mail addresses masked."""
    raw = scope.get("query_string", b"")
    return redact(unquote_plus(raw.decode("latin-1")))[:500] if raw else ""


def _row(scope: Scope, status_code: int, customer_id: uuid.UUID | None,
         shown: int | None = None) -> tuple[Any, ...]:
    """One audit record in READ_COLUMNS order."""
    user_id, actor, tenant_id, ip = _who(scope)
    now = datetime.now(UTC)
    return (uuid.uuid4(), now, now, user_id, actor, tenant_id, scope.get("method", ""),
            scope.get("path", "")[:500], status_code, ip, customer_id, _query(scope), shown)


@cache
def _postgres_insert() -> str:
    """The records, one array a column (the text does not depend on the number of rows),
    and the customers shown as two arrays: their tenant and time come from the record."""
    casts = ", ".join(
        f"{{}}::{AuditLog._meta.get_column_by_name(name).column_type.split('(')[0]}[]"
        for name in READ_COLUMNS)
    return (f"with r as (insert into audit_log ({', '.join(READ_COLUMNS)}) "
            f"select * from unnest({casts}) returning id, tenant_id, at) "
            f"insert into audit_customer_shown ({', '.join(SHOWN_COLUMNS)}) "
            "select r.id, r.tenant_id, s.customer_id, r.at "
            "from unnest({}::uuid[], {}::uuid[]) as s (audit_id, customer_id) "
            "join r on r.id = s.audit_id")


async def _insert(rows: Sequence[tuple[Any, ...]], shown: Sequence[tuple[Any, ...]] = ()) -> None:
    """The records and the customers their list reads showed: one statement on PostgreSQL;
    on SQLite plain multi-row INSERTs in one transaction (building Piccolo objects cost
    more than the write)."""
    if is_postgres():
        columns = [list(column) for column in zip(*rows, strict=True)]
        await fetch(_postgres_insert(), *columns, [row[0] for row in shown],
                    [row[2] for row in shown])
        return
    if not shown:
        await _values("audit_log", READ_COLUMNS, rows)
        return
    async with transaction():
        await _values("audit_log", READ_COLUMNS, rows)
        await _values("audit_customer_shown", SHOWN_COLUMNS, shown)


async def _values(table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    one = "(" + ", ".join(["{}"] * len(columns)) + ")"
    size = SQLITE_PARAMETERS // len(columns)
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        await fetch(f"insert into {table} ({', '.join(columns)}) values "
                    + ", ".join([one] * len(part)), *(value for row in part for value in row))


async def record(scope: Scope, status_code: int, customer_id: uuid.UUID | None = None) -> None:
    try:
        await _insert([_row(scope, status_code, customer_id)])
    except Exception:
        log.exception("could not write the audit record for %s", scope.get("path"))


async def _buffer(scope: Scope, status_code: int, customer_id: uuid.UUID | None,
                  shown: dict[uuid.UUID, None] | None = None) -> None:
    row = _row(scope, status_code, customer_id, None if shown is None else len(shown))
    _pending_reads.append(row)
    if shown and row[5] is not None:
        audit_id, at, tenant_id = row[0], row[2], row[5]
        _pending_shown.extend((audit_id, tenant_id, shown_id, at) for shown_id in shown)
    if len(_pending_reads) >= READ_FLUSH_ROWS or len(_pending_shown) >= SHOWN_FLUSH_ROWS:
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
    """Write the buffered reads in one statement (listing the trail and shutdown call it).
    Waits for a flush already writing: a listing must not run before the records it took
    from the buffer are committed."""
    async with _flush_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        rows, shown = _pending_reads[:], _pending_shown[:]
        _pending_reads.clear()
        _pending_shown.clear()
        if not rows:
            return
        try:
            await _insert(rows, shown)
        except Exception:
            log.exception("could not write %d audited reads", len(rows))


@dataclass(frozen=True)
class TrailPage:
    rows: list[dict]
    total: int


_TRAIL_COLUMNS = ("a.id, a.at, a.user_id, a.actor, a.action, a.target, a.query, a.status_code, "
                  "a.ip, a.shown")
_CHANGES = ", ".join(f"'{method}'" for method in sorted(STATE_CHANGING))
# What each kind is among the rows naming one customer, and among all rows.
_KIND_OF_NAMED = {"read": "a.action = 'GET'", "change": f"a.action in ({_CHANGES})"}
_KIND_OF_ANY = {None: "(a.customer_id is not null or a.shown is not null)",
                "read": "a.customer_id is not null and a.action = 'GET'",
                "change": f"a.customer_id is not null and a.action in ({_CHANGES})",
                "list": "a.shown is not null"}


def _trail_sql(tenant_id: uuid.UUID, customer_id: uuid.UUID | None, user_id: uuid.UUID | None,
               since: datetime | None, until: datetime | None,
               action: str | None) -> tuple[str, list[Any]]:
    """The trail as one SELECT: with a customer, the rows naming it and the list reads that
    showed it (each through its own index); without, every row naming customers."""

    def narrowed(at: str) -> tuple[str, list[Any]]:
        sql, args = "", []
        for condition, value in ((f" and {at} >= {{}}", since), (f" and {at} < {{}}", until),
                                 (" and a.user_id = {}", user_id)):
            if value is not None:
                sql += condition
                args.append(value)
        return sql, args

    named, named_args = narrowed("a.at")
    if customer_id is None:
        return (f"select {_TRAIL_COLUMNS}, a.customer_id from audit_log a "
                f"where a.tenant_id = {{}} and {_KIND_OF_ANY[action]}{named}",
                [tenant_id, *named_args])
    branches: list[str] = []
    args: list[Any] = []
    if action != "list":
        kind = f" and {_KIND_OF_NAMED[action]}" if action else ""
        branches.append(f"select {_TRAIL_COLUMNS}, a.customer_id from audit_log a "
                        f"where a.tenant_id = {{}} and a.customer_id = {{}}{kind}{named}")
        args += [tenant_id, customer_id, *named_args]
    if action in (None, "list"):
        linked, linked_args = narrowed("s.created_at")
        branches.append(f"select {_TRAIL_COLUMNS}, s.customer_id from audit_customer_shown s "
                        f"join audit_log a on a.id = s.audit_id "
                        f"where s.tenant_id = {{}} and s.customer_id = {{}}{linked}")
        args += [tenant_id, customer_id, *linked_args]
    return " union all ".join(branches), args


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
    """Who read, changed or listed the dealer's customer records, newest first. `action` is
    one of TRAIL_ACTIONS; `until` is exclusive. A list read carries the customer asked
    about, or none when not asked about one."""
    await flush_reads()
    sql, args = _trail_sql(tenant_id, customer_id, user_id, since, until, action)
    rows = await fetch(f'select * from ({sql}) t order by t."at" desc, t.id desc '
                       "limit {} offset {}", *args, per_page, (page - 1) * per_page)
    total = await fetch(f"select count(*) as n from ({sql}) t", *args)
    return TrailPage(rows, total[0]["n"])
