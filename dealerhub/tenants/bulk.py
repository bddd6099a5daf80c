"""Set-based writes: many rows in one statement, on PostgreSQL and SQLite alike.

On PostgreSQL the rows are loaded into a temporary table by binary COPY (asyncpg encodes
them in C; JSON cost more Python than the statements cost PostgreSQL), then written with
one `insert … select` / `update … from`; the temporary table is dropped at commit, so no
state outlives the transaction on a pooled connection. On SQLite they travel as one JSON
parameter unpacked by `json_each`. Every statement is filtered by the current tenant, and
RLS filters it again on PostgreSQL (a temporary table has no RLS, but it only holds what
this transaction put there).
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from dealerhub.platform import db
from dealerhub.platform.tenancy import require_tenant

CHUNK = 500
_JSON = msgspec.json.Encoder()  # what json.dumps gives (UTF-8 kept), in C


def one_of(column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` for thousands of values. On PostgreSQL one array parameter
    (`= any($1)`): an IN list of 10,000 parameters costs Python and the planner far more."""
    if not db.is_postgres():
        return column.is_in(list(values))
    name = f'"{column._meta.table._meta.tablename}"."{column._meta.db_column_name}"'
    return WhereRaw(f"{name} = any({{}})", list(values))


def _sqlite_json(value: Any) -> Any:
    """JSON for the types json does not know, in the form SQLite reads back."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


@dataclass(frozen=True)
class Staged:
    """Rows ready for one statement: `sql` is a FROM item named `x`; `args` are the
    parameters it takes where it stands (the rows' JSON on SQLite, none on PostgreSQL)."""

    sql: str
    args: tuple[Any, ...]


_open_stages: ContextVar[tuple[str, ...]] = ContextVar("open_stages", default=())


def _records(rows: Sequence[dict[str, Any]], types: dict[str, str]) -> Iterable[tuple[Any, ...]]:
    """Rows as COPY records in `types` order (a missing key is NULL); JSON values as text."""
    columns = list(types)
    jsons = [i for i, column in enumerate(columns) if types[column] == "jsonb"]
    for row in rows:
        record = [row.get(column) for column in columns]
        for i in jsons:
            if record[i] is not None and not isinstance(record[i], str):
                record[i] = _JSON.encode(record[i]).decode()
        yield tuple(record)


@asynccontextmanager
async def staged(rows: Sequence[dict[str, Any]], types: dict[str, str]) -> AsyncIterator[Staged]:
    """The rows (column name → value) as a FROM item for the statements inside the block;
    `types` are PostgreSQL type names. Inside a transaction (a tenant scope) only."""
    if not db.is_postgres():
        columns = ", ".join(f"json_extract(value, '$.{name}') as {name}" for name in types)
        yield Staged(f"(select {columns} from json_each({{}})) as x",
                     (json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"),
                                 default=_sqlite_json),))
        return
    connection = db.engine().current_transaction.get().connection
    # One name per set of columns (and per nesting level): the next use replaces the table,
    # and asyncpg reuses the column types it looked up for COPY, so staging is one round
    # trip for the table and one for the rows.
    open_names = _open_stages.get()
    name = f"bulk_rows_{zlib.crc32(repr(types).encode()):08x}_{len(open_names)}"
    await connection.execute(
        f"drop table if exists pg_temp.{name}; create temporary table {name} ("
        + ", ".join(f"{column} {kind}" for column, kind in types.items()) + ") on commit drop")
    await connection.copy_records_to_table(name, records=_records(rows, types),
                                           columns=list(types))
    token = _open_stages.set((*open_names, name))
    try:
        yield Staged(f"{name} as x", ())
    finally:
        _open_stages.reset(token)


async def bulk_update(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str]) -> None:
    """`update table set … where id = row.id` for every row (`types` must include `id`)."""
    if not rows:
        return
    assignments = ", ".join(f"{c} = x.{c}" for c in types if c != "id")
    async with staged(rows, types) as source:
        await db.fetch(
            f"update {table} set {assignments} from {source.sql} "
            f"where {table}.tenant_id = {{}} and {table}.id = x.id",
            *source.args, require_tenant(),
        )


async def upsert_from(source: Staged, table: str, types: dict[str, str], conflict: str, *,
                      returning: bool = False) -> list[dict[str, Any]]:
    """Insert the staged rows (`types`: the columns to write, each row with an `id`) or
    update the row with the same (tenant, `conflict`) key, which keeps its id. With
    `returning`, the `id` and `conflict` of every row written."""
    columns = list(types)
    return await db.fetch(
        f"insert into {table} (tenant_id, {', '.join(columns)}) "
        f"select {{}}, {', '.join('x.' + c for c in columns)} from {source.sql} "
        f"where true on conflict (tenant_id, {conflict}) do update set "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("id", conflict))
        + (f" returning id, {conflict}" if returning else ""),
        require_tenant(), *source.args,
    )


async def bulk_upsert(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str],
                      conflict: str) -> list[dict[str, Any]]:
    """`upsert_from` of these rows; returns `id` and `conflict` of every row written."""
    if not rows:
        return []
    async with staged(rows, types) as source:
        return await upsert_from(source, table, types, conflict, returning=True)


async def insert_from(source: Staged, table: str, columns: dict[str, str],
                      where: str = "true") -> None:
    """Insert one row per staged row (`where`: which ones); `columns` maps each column
    written to its SQL expression over the staged row `x`."""
    await db.fetch(
        f"insert into {table} (tenant_id, {', '.join(columns)}) "
        f"select {{}}, {', '.join(columns.values())} from {source.sql} where {where}",
        require_tenant(), *source.args,
    )


async def bulk_insert(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str]) -> None:
    if not rows:
        return
    async with staged(rows, types) as source:
        await insert_from(source, table, {c: f"x.{c}" for c in types})


_SQL_TYPES = {"UUID": "uuid", "Varchar": "text", "Text": "text", "Integer": "int",
              "SmallInt": "int", "BigInt": "bigint", "Float": "float8", "Numeric": "numeric",
              "Boolean": "boolean", "Date": "date", "Timestamptz": "timestamptz",
              "JSONB": "jsonb", "JSON": "jsonb"}


def column_types(table: type[Table]) -> dict[str, str]:
    """Column name -> PostgreSQL type for every column but `tenant_id`."""
    return {column._meta.db_column_name: _SQL_TYPES[type(column).__name__]
            for column in table._meta.columns if column._meta.name != "tenant_id"}


async def insert_objects(table: type[Table], objects: Sequence[Table]) -> None:
    """Insert Piccolo objects (defaults already filled in) in set-based statements."""
    types = column_types(table)
    await bulk_insert(table._meta.tablename,
                      [{name: getattr(obj, name) for name in types} for obj in objects], types)


def loaded(value: Any, default: Any) -> Any:
    """A JSON column's value: Piccolo returns JSON columns as text unless asked otherwise."""
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str | bytes) else value
