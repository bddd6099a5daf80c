"""Set-based writes: many rows in one statement, on PostgreSQL and SQLite alike.

Rows travel as one JSON parameter, unpacked by `jsonb_to_recordset` (PostgreSQL) or
`json_each` (SQLite), so a batch of thousands of rows is one round trip. Every statement
is filtered by the current tenant, and RLS filters it again on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from dealerhub.platform import db
from dealerhub.platform.tenancy import require_tenant

CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def one_of(column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` for thousands of values. On PostgreSQL one array parameter
    (`= any($1)`): an IN list of 10,000 parameters costs Python and the planner far more."""
    if not db.is_postgres():
        return column.is_in(list(values))
    name = f'"{column._meta.table._meta.tablename}"."{column._meta.db_column_name}"'
    return WhereRaw(f"{name} = any({{}})", list(values))


def _encoder(postgres: bool) -> Any:
    """JSON for the types json does not know, in the form each database reads back."""

    def encode(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            return value.isoformat() if postgres else str(value.astimezone(UTC))
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value) if postgres else float(value)
        raise TypeError(f"cannot send {type(value).__name__} as JSON")

    return encode


def rows_json(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one JSON array; keys beyond `columns` are ignored by the readers and a
    missing key reads as NULL. Nested lists and objects stay JSON (JSON columns)."""
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"),
                      default=_encoder(db.is_postgres()))


def rows_source(types: dict[str, str]) -> str:
    """A FROM item named `x` with one column per key of `types` (PostgreSQL type names)."""
    if db.is_postgres():
        columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
        return f"jsonb_to_recordset({{}}::jsonb) as x({columns})"
    columns = ", ".join(f"json_extract(value, '$.{name}') as {name}" for name in types)
    return f"(select {columns} from json_each({{}})) as x"


async def bulk_update(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str]) -> None:
    """`update table set … where id = row.id` for every row (`types` must include `id`)."""
    columns = [c for c in types if c != "id"]
    tenant_id = require_tenant()
    for part in chunks(rows, 2000):
        assignments = ", ".join(f"{c} = x.{c}" for c in columns)
        await db.fetch(
            f"update {table} set {assignments} from {rows_source(types)} "
            f"where {table}.tenant_id = {{}} and {table}.id = x.id",
            rows_json(part), tenant_id,
        )


async def bulk_upsert(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str],
                      conflict: str, keep_on_update: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Insert rows (each with an `id`) or update the row with the same (tenant, `conflict`)
    key; returns `id` and `conflict` of every row written (updated rows keep their id)."""
    tenant_id = require_tenant()
    columns = list(types)
    updated = [c for c in columns if c not in ("id", conflict, *keep_on_update)]
    written: list[dict[str, Any]] = []
    for part in chunks(rows, 2000):
        written += await db.fetch(
            f"insert into {table} (tenant_id, {', '.join(columns)}) "
            f"select {{}}, {', '.join('x.' + c for c in columns)} from {rows_source(types)} "
            f"where true on conflict (tenant_id, {conflict}) do update set "
            + ", ".join(f"{c} = excluded.{c}" for c in updated)
            + f" returning id, {conflict}",
            tenant_id, rows_json(part),
        )
    return written


async def bulk_insert(table: str, rows: Sequence[dict[str, Any]], types: dict[str, str]) -> None:
    tenant_id = require_tenant()
    columns = list(types)
    for part in chunks(rows, 2000):
        await db.fetch(
            f"insert into {table} (tenant_id, {', '.join(columns)}) "
            f"select {{}}, {', '.join('x.' + c for c in columns)} from {rows_source(types)}",
            tenant_id, rows_json(part),
        )


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
