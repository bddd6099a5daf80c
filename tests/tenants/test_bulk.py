"""Set-based writes: staged rows (binary COPY into a temporary table on PostgreSQL, JSON on
SQLite) read back as written, nested stagings of the same columns kept apart, and no
temporary table outliving its transaction on a pooled connection."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from dealerhub.platform import db
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.bulk import staged

pytestmark = pytest.mark.anyio

TYPES = {"id": "uuid", "n": "int", "day": "date", "tags": "jsonb"}


async def _read(source) -> list[tuple[str, int, str, object]]:
    rows = await db.fetch(f"select x.id, x.n, x.day, x.tags from {source.sql} order by x.n",
                          *source.args)
    return [(str(r["id"]), r["n"], str(r["day"]), r["tags"]) for r in rows]


async def test_nested_stagings_of_the_same_columns_keep_their_own_rows(dealer_a) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    first_rows = [{"id": first, "n": 1, "day": date(2026, 1, 2), "tags": ["a"]}]
    async with tenant_scope(dealer_a.id), staged(first_rows, TYPES) as outer:
        async with staged([{"id": second, "n": 2}], TYPES) as inner:
            assert [row[:3] for row in await _read(inner)] == [(str(second), 2, "None")]
        outer_rows = await _read(outer)
    assert [row[:3] for row in outer_rows] == [(str(first), 1, "2026-01-02")]
    assert outer_rows[0][3] in ('["a"]', ["a"])  # JSON text on PostgreSQL, decoded on SQLite


@pytest.mark.postgres
async def test_no_temporary_table_outlives_its_transaction(dealer_a) -> None:
    async with tenant_scope(dealer_a.id), staged([{"id": uuid.uuid4(), "n": 1}], TYPES):
        pass
    async with tenant_scope(dealer_a.id, write=False):
        left = await db.fetch("select count(*) as n from pg_class where relpersistence = 't' "
                              "and relname like 'bulk_rows%'")
    assert left[0]["n"] == 0
