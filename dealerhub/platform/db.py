"""Database engines for PostgreSQL and the embedded SQLite default, and the table base classes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
import weakref
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import asyncpg
from asyncpg.pool import Pool
from opentelemetry import trace
from piccolo.columns import JSON, JSONB, UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query import Objects, Select
from piccolo.querystring import QueryString
from piccolo.table import Table

from dealerhub.platform.config import Settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30
TableT = TypeVar("TableT", bound=Table)
ItemT = TypeVar("ItemT")
QueryT = TypeVar("QueryT", Select, Objects)
_tracer = trace.get_tracer("dealerhub.db")


class ReleasingPostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, safe when the server goes away in the middle of it.

    Piccolo clears `current_transaction` and releases the connection only after COMMIT or
    ROLLBACK succeeded. When PostgreSQL restarts, the ROLLBACK of a transaction it cut off
    raises, the context stays set, and a long-lived task (the scheduler loop) joins that
    dead transaction from then on: every periodic task fails until the process restarts.
    Here the context is always cleared and the connection always handed back (closed first
    if it is still inside a transaction; a failed BEGIN no longer keeps it checked out).
    """

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        self.transaction = self.connection.transaction()
        try:
            await self.begin()
        except BaseException:
            await self._hand_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    with contextlib.suppress(Exception):  # a lost server rolled back already
                        await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()  # a failure propagates: the outcome is unknown
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._hand_back()
        return exception is None

    async def _hand_back(self) -> None:
        connection = self.connection
        if not self.engine.pool:
            await connection.close()
            return
        # asyncpg takes a closed connection back by itself (the proxy is then detached and
        # answers InterfaceError); one still inside a transaction must never be pooled.
        with contextlib.suppress(asyncpg.InterfaceError):
            if connection.is_in_transaction():
                connection.terminate()
        await self.engine.pool.release(connection)


class LoopPoolPostgresEngine(PostgresEngine):
    """A Postgres engine that keeps one asyncpg pool per event loop.

    The API server and the embedded Dramatiq worker run async code on different event
    loops; an asyncpg pool belongs to the loop that made it, so each loop gets its own.
    """

    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pool]
    _pool_size: int

    def __init__(self, config: dict[str, Any], pool_size: int = 20, **kwargs: Any) -> None:
        object.__setattr__(self, "_pools", weakref.WeakKeyDictionary())
        object.__setattr__(self, "_pool_size", pool_size)
        super().__init__(config=config, extensions=(), **kwargs)

    @property  # type: ignore[override]
    def pool(self) -> Pool | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, value: Pool | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value

    async def start_connection_pool(self, **kwargs: Any) -> None:
        if self.pool is None:
            kwargs.setdefault("reset", _keep_connection_state)
            kwargs.setdefault("max_size", self._pool_size)
            kwargs.setdefault("min_size", min(2, self._pool_size))
            await super().start_connection_pool(**kwargs)

    async def close_connection_pool(self) -> None:
        if self.pool is not None:
            await super().close_connection_pool()

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return ReleasingPostgresTransaction(engine=self, allow_nested=allow_nested)


class TracedSQLiteEngine(SQLiteEngine):
    """SQLite with a span per statement: aiosqlite calls `connection.execute`, which the
    sqlite3 instrumentation (it wraps cursors only) does not see."""

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        with _tracer.start_as_current_span(
            "sqlite",
            attributes={
                "db.system": "sqlite",
                "db.statement": querystring.__str__()[:2000],
            },
        ):
            return await super().run_querystring(querystring, in_pool=in_pool)


async def _keep_connection_state(connection: Any) -> None:
    """Pool release without asyncpg's default reset round trip (UNLISTEN, RESET ALL, …).

    dealerhub sets no session state: the tenant setting is transaction-local
    (`set_config(…, true)`), and asyncpg still rolls back a transaction left open."""


def postgres_config(url: str) -> dict[str, Any]:
    """asyncpg connection arguments from a postgresql:// URL."""
    parsed = urlparse(url)
    config: dict[str, Any] = {"database": unquote(parsed.path.lstrip("/")) or "postgres"}
    if parsed.hostname:
        config["host"] = parsed.hostname
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["user"] = unquote(parsed.username)
    if parsed.password:
        config["password"] = unquote(parsed.password)
    return config


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///") or "dealerhub.sqlite3"


def make_engine(url: str) -> Engine:
    if url.startswith("postgres"):
        pool_size = int(parse_qs(urlparse(url).query).get("pool_size", ["20"])[0])
        return LoopPoolPostgresEngine(config=postgres_config(url), pool_size=pool_size)
    path = sqlite_path(url)
    return TracedSQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def prepare_sqlite(url: str) -> None:
    """WAL lets readers run beside the one writer; set once per database file."""
    path = Path(sqlite_path(url))
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("pragma journal_mode=wal")


@cache
def engine() -> Engine:
    """The process's engine (found once: Piccolo's finder re-imports the conf on each call)."""
    found = engine_finder()
    if found is None:
        raise RuntimeError("no Piccolo engine configured")
    return found


def is_postgres() -> bool:
    return engine().engine_type == "postgres"


def json_text(column: str, key: str) -> str:
    """SQL for a JSON column's top-level field as text; the same text in an index and in
    the queries it serves, so the planner matches them."""
    if is_postgres():
        return f"({column}->>'{key}')"
    return f"json_extract({column}, '$.{key}')"


def chunks(items: Sequence[ItemT], size: int) -> Iterator[Sequence[ItemT]]:
    """`items` in slices of at most `size`: rows per statement, ids per job."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def paged(query: QueryT, page: int, per_page: int) -> QueryT:
    """One page of a list, pages counted from 1 (a page below 1 reads the first)."""
    return query.limit(per_page).offset((max(page, 1) - 1) * per_page)


def skip_locked(query: QueryT, *of: type[Table]) -> QueryT:
    """Rows a worker claims: on PostgreSQL locked for update, passing over rows another
    worker holds; on SQLite the write transaction already lets one claimer in at a time."""
    if is_postgres():
        return query.lock_rows("UPDATE", skip_locked=True, of=of)
    return query


def new_uuid_sql() -> str:
    """SQL for a random version-4 UUID per row (on SQLite in the text form Piccolo stores),
    for set-based inserts whose ids need not be known to the caller."""
    if is_postgres():
        return "gen_random_uuid()"
    return (
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || "
        "hex(randomblob(6)))"
    )


async def start(settings: Settings) -> None:
    if settings.is_postgres:
        await engine().start_connection_pool()
    else:
        prepare_sqlite(settings.database_url)


async def stop(settings: Settings) -> None:
    if settings.is_postgres:
        await engine().close_connection_pool()


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A raw query on the current transaction (or the pool); `{}` placeholders, Piccolo style.

    On PostgreSQL the numbered form of the template is made once and sent straight to the
    transaction's connection, or outside a transaction to a pooled one (an audit record):
    Piccolo re-parses the template on every call, which was a large share of a booking's
    CPU. Templates with escaped braces take Piccolo's path."""
    current = engine().current_transaction.get() if is_postgres() else None
    plain = "{{" not in sql and "}}" not in sql
    if current is not None and plain:
        rows = await current.connection.fetch(_numbered(sql), *args)
    elif plain and is_postgres() and (pool := engine().pool) is not None:
        rows = await pool.fetch(_numbered(sql), *args)  # one statement, its own transaction
    else:
        rows = await engine().run_querystring(QueryString(sql, *args))
    return [dict(row) for row in rows]


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """`{}` placeholders as PostgreSQL's `$1`, `$2`, …"""
    parts = sql.split("{}")
    return "".join(f"{part}${number}" for number, part in enumerate(parts[:-1], 1)) + parts[-1]


def row_to_instance(table: type[TableT], row: dict[str, Any]) -> TableT:
    """A table instance from a raw row, decoding JSON the way `.output(load_json=True)` does."""
    data: dict[Any, Any] = {}
    for column in table._meta.columns:
        value = row.get(column._meta.db_column_name)
        if isinstance(column, JSON | JSONB) and isinstance(value, str):
            value = json.loads(value)
        data[column] = value
    return table(_data=data, _exists_in_db=True)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class PlatformTable(Table):
    """A table that belongs to the OEM's platform, not to one dealer."""

    id = UUID(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())
