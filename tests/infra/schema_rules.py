"""Checks a live PostgreSQL schema against the tenancy rules in ARCHITECTURE.md.

A table is tenant-owned iff it has a column named ``tenant_id`` and is not one of the
platform tables in :data:`PLATFORM_TABLES_WITH_TENANT_COLUMN`. Every tenant-owned table
must have a NOT NULL ``tenant_id``, a unique key on exactly ``(tenant_id, id)``, row-level
security enabled and forced with at least one policy, every unique constraint or index led
by ``tenant_id``, and every foreign key to another tenant table composite and led by
``tenant_id → tenant_id``. Those are also the preconditions for distributing the tables
with Citus by ``tenant_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

TENANT_COLUMN = "tenant_id"



def _declared_platform_tables() -> frozenset[str]:
    """Tables the code declares as OEM-wide (`PlatformTable`) although they carry a
    tenant_id: the audit log and events outbox (OEM-level rows exist), the cross-dealer work
    queues one sweeper claims from, and the aggregates headquarters reads (ids and figures,
    never personal data). Declaring one is a reviewed decision in the code, not here."""
    from piccolo.conf.apps import Finder

    from dealerhub.platform.db import PlatformTable

    return frozenset(
        table._meta.tablename
        for table in Finder().get_table_classes()
        if issubclass(table, PlatformTable)
        and any(column._meta.db_column_name == "tenant_id" for column in table._meta.columns)
    )


PLATFORM_TABLES_WITH_TENANT_COLUMN: frozenset[str] = _declared_platform_tables()

# Rule identifiers, stable for tests and for grepping CI output.
TENANT_ID_NULLABLE = "tenant_id_nullable"
MISSING_TENANT_KEY = "missing_tenant_id_key"
RLS_NOT_ENABLED = "rls_not_enabled"
RLS_NOT_FORCED = "rls_not_forced"
NO_POLICY = "no_policy"
UNIQUE_WITHOUT_TENANT = "unique_not_led_by_tenant_id"
FK_NOT_TENANT_COMPOSITE = "fk_not_tenant_composite"


class Connection(Protocol):
    """The part of ``asyncpg.Connection`` the checks use."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule on one table."""

    table: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.rule}: {self.detail}"


_TABLES_SQL = """
select c.relname as table_name,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       a.attnotnull as tenant_id_not_null,
       (select count(*) from pg_policy p where p.polrelid = c.oid) as policy_count
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attname = $2 and not a.attisdropped
where n.nspname = $1
  and c.relkind in ('r', 'p')
  and not c.relispartition
order by c.relname
"""

# Unique indexes (which back every primary key and unique constraint) with their key
# columns in order; an expression column comes back as NULL.
_UNIQUE_INDEXES_SQL = """
select c.relname as table_name,
       i.relname as index_name,
       ix.indpred is not null as partial,
       array(
           select a.attname
           from unnest(ix.indkey::int2[]) with ordinality as k(attnum, ord)
           left join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.attnum
           where k.ord <= ix.indnkeyatts
           order by k.ord
       ) as columns
from pg_index ix
join pg_class c on c.oid = ix.indrelid
join pg_class i on i.oid = ix.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and ix.indisunique
order by c.relname, i.relname
"""

_FOREIGN_KEYS_SQL = """
select con.conname as constraint_name,
       src.relname as table_name,
       dst.relname as target_name,
       dst_ns.nspname as target_schema,
       exists (
           select 1 from pg_attribute t
           where t.attrelid = dst.oid and t.attname = $2 and not t.attisdropped
       ) as target_has_tenant_column,
       array(
           select a.attname
           from unnest(con.conkey) with ordinality as k(attnum, ord)
           join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
           order by k.ord
       ) as columns,
       array(
           select a.attname
           from unnest(con.confkey) with ordinality as k(attnum, ord)
           join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
           order by k.ord
       ) as target_columns
from pg_constraint con
join pg_class src on src.oid = con.conrelid
join pg_namespace n on n.oid = src.relnamespace
join pg_class dst on dst.oid = con.confrelid
join pg_namespace dst_ns on dst_ns.oid = dst.relnamespace
where n.nspname = $1 and con.contype = 'f'
order by src.relname, con.conname
"""


def _is_tenant_table(name: str) -> bool:
    return name not in PLATFORM_TABLES_WITH_TENANT_COLUMN


async def tenant_tables(conn: Connection, schema: str = "public") -> list[str]:
    """Names of the tenant-owned tables in ``schema``, sorted."""
    rows = await conn.fetch(_TABLES_SQL, schema, TENANT_COLUMN)
    return [row["table_name"] for row in rows if _is_tenant_table(row["table_name"])]


async def find_violations(conn: Connection, schema: str = "public") -> list[Violation]:
    """Every tenancy rule broken in ``schema``, sorted by table and rule."""
    tables = {
        row["table_name"]: row
        for row in await conn.fetch(_TABLES_SQL, schema, TENANT_COLUMN)
        if _is_tenant_table(row["table_name"])
    }
    found: list[Violation] = []
    for name, row in tables.items():
        if not row["tenant_id_not_null"]:
            found.append(Violation(name, TENANT_ID_NULLABLE, "tenant_id must be NOT NULL"))
        if not row["rls_enabled"]:
            found.append(Violation(name, RLS_NOT_ENABLED, "ENABLE ROW LEVEL SECURITY is missing"))
        if not row["rls_forced"]:
            found.append(Violation(name, RLS_NOT_FORCED, "FORCE ROW LEVEL SECURITY is missing"))
        if row["policy_count"] == 0:
            found.append(Violation(name, NO_POLICY, "no row-level security policy"))

    has_tenant_key: set[str] = set()
    for row in await conn.fetch(_UNIQUE_INDEXES_SQL, schema):
        name = row["table_name"]
        if name not in tables:
            continue
        columns: list[str | None] = list(row["columns"])
        if columns == [TENANT_COLUMN, "id"] and not row["partial"]:
            has_tenant_key.add(name)
        if not columns or columns[0] != TENANT_COLUMN:
            shown = ", ".join(c if c is not None else "<expression>" for c in columns)
            found.append(
                Violation(
                    name,
                    UNIQUE_WITHOUT_TENANT,
                    f"unique index {row['index_name']} ({shown}) does not start with tenant_id",
                )
            )
    found.extend(
        Violation(name, MISSING_TENANT_KEY, "no unique constraint or index on (tenant_id, id)")
        for name in tables
        if name not in has_tenant_key
    )

    for row in await conn.fetch(_FOREIGN_KEYS_SQL, schema, TENANT_COLUMN):
        name = row["table_name"]
        target = row["target_name"]
        if name not in tables or not row["target_has_tenant_column"]:
            continue
        if row["target_schema"] == schema and target in PLATFORM_TABLES_WITH_TENANT_COLUMN:
            continue
        columns = list(row["columns"])
        target_columns = list(row["target_columns"])
        composite = len(columns) >= 2
        led_by_tenant = columns[:1] == [TENANT_COLUMN] and target_columns[:1] == [TENANT_COLUMN]
        if not (composite and led_by_tenant):
            found.append(
                Violation(
                    name,
                    FK_NOT_TENANT_COMPOSITE,
                    f"foreign key {row['constraint_name']} ({', '.join(columns)}) -> "
                    f"{target} ({', '.join(target_columns)}) must be composite and start "
                    "with tenant_id -> tenant_id",
                )
            )
    return sorted(found)


async def violations(conn: Connection, schema: str = "public") -> list[str]:
    """Every tenancy rule broken in ``schema``, one readable line each ("table: rule: why")."""
    return [str(v) for v in await find_violations(conn, schema)]
