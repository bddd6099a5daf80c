"""Tenant scope, the helpers that add the tenant filter, and PostgreSQL's row-level security."""

from __future__ import annotations

import asyncpg
import pytest

from dealerhub.platform import db
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.tables import ApiKey
from dealerhub.platform.tenancy import NoTenantScope, insert_rows, tenant_scope

pytestmark = pytest.mark.anyio


async def test_helpers_filter_by_the_current_tenant(dealer_a, dealer_b) -> None:
    await create_api_key(dealer_a.id, "a", ["read"], None)
    await create_api_key(dealer_b.id, "b", ["read"], None)
    async with tenant_scope(dealer_a.id, write=False):
        rows = await ApiKey.select_in_tenant(ApiKey.tenant_id, ApiKey.name)
    assert rows and {row["tenant_id"] for row in rows} == {dealer_a.id}


async def test_helpers_refuse_to_run_outside_a_scope(database) -> None:
    with pytest.raises(NoTenantScope):
        ApiKey.select_in_tenant()


async def test_a_scope_cannot_nest_another_tenant(dealer_a, dealer_b) -> None:
    with pytest.raises(NoTenantScope):
        async with tenant_scope(dealer_a.id), tenant_scope(dealer_b.id):
            pass


async def test_get_in_tenant_does_not_find_another_tenants_row(dealer_a, dealer_b) -> None:
    issued = await create_api_key(dealer_b.id, "b", ["read"], None)
    async with tenant_scope(dealer_a.id, write=False):
        assert await ApiKey.get_in_tenant(issued.api_key.id) is None
        assert await ApiKey.get_in_tenant("not-a-uuid") is None
    async with tenant_scope(dealer_b.id, write=False):
        assert (await ApiKey.get_in_tenant(issued.api_key.id)).name == "b"


async def test_get_for_tenant_reads_only_that_tenants_row(dealer_a, dealer_b) -> None:
    issued = await create_api_key(dealer_b.id, "b", ["read", "write"], None)
    row = await ApiKey.get_for_tenant(dealer_b.id, issued.api_key.id)
    assert (row.name, sorted(row.scopes)) == ("b", ["read", "write"])
    assert await ApiKey.get_for_tenant(dealer_a.id, issued.api_key.id) is None
    assert await ApiKey.get_for_tenant(dealer_b.id, "not-a-uuid") is None
    async with tenant_scope(dealer_b.id, write=False):  # inside a scope it joins it
        assert (await ApiKey.get_for_tenant(dealer_b.id, issued.api_key.id)).name == "b"
    with pytest.raises(NoTenantScope):
        async with tenant_scope(dealer_a.id, write=False):
            await ApiKey.get_for_tenant(dealer_b.id, issued.api_key.id)


@pytest.mark.postgres
async def test_get_for_tenant_leaves_no_tenant_on_the_connection(dealer_a) -> None:
    issued = await create_api_key(dealer_a.id, "a", ["read"], None)
    engine = db.engine()
    async with engine.pool.acquire() as connection:  # the one-statement read's connection
        row = await connection.fetchrow(
            "select * from tenant_row($1, null::api_key, $2)", dealer_a.id, issued.api_key.id
        )
        assert row["name"] == "a"
        assert await connection.fetchval("select current_setting('app.tenant_id', true)") == ""
        assert await connection.fetch("select id from api_key") == []
    with pytest.raises(asyncpg.exceptions.UndefinedTableError):  # only tables' row types
        await db.fetch("select * from tenant_row({}, null::uuid, {})", dealer_a.id, dealer_a.id)


@pytest.mark.postgres
async def test_rls_filters_a_query_that_forgot_the_tenant_filter(dealer_a, dealer_b) -> None:
    await create_api_key(dealer_a.id, "a", ["read"], None)
    await create_api_key(dealer_b.id, "b", ["read"], None)
    async with tenant_scope(dealer_a.id, write=False):
        unfiltered = await ApiKey.select(ApiKey.tenant_id)  # deliberately no tenant filter
        raw = await db.fetch("select tenant_id from api_key")
    assert unfiltered and {row["tenant_id"] for row in unfiltered} == {dealer_a.id}
    assert {row["tenant_id"] for row in raw} == {dealer_a.id}


@pytest.mark.postgres
async def test_rls_fails_closed_without_a_tenant(dealer_a) -> None:
    await create_api_key(dealer_a.id, "a", ["read"], None)
    assert await ApiKey.select(ApiKey.id) == []  # no scope: nothing, not everything
    # the pooled connection that just ran a scope reads '' for the setting: still nothing
    async with tenant_scope(dealer_a.id, write=False):
        pass
    assert await db.fetch("select id from api_key") == []


@pytest.mark.postgres
async def test_rls_refuses_writing_into_another_tenant(dealer_a, dealer_b) -> None:
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        async with tenant_scope(dealer_a.id):
            await ApiKey.insert(
                ApiKey(tenant_id=dealer_b.id, name="smuggled", prefix="p", key_hash="h")
            )
    async with tenant_scope(dealer_b.id, write=False):
        assert not await ApiKey.select_in_tenant().where(ApiKey.name == "smuggled")


@pytest.mark.postgres
async def test_app_role_owns_nothing_and_cannot_bypass_rls(database) -> None:
    rows = await db.fetch(
        "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
    )
    assert rows == [{"rolsuper": False, "rolbypassrls": False}]
    owned = await db.fetch(
        "select count(*) as n from pg_tables where schemaname = 'public' "
        "and tableowner = current_user"
    )
    assert owned[0]["n"] == 0


async def test_a_nested_scope_of_the_same_tenant_joins_the_transaction(dealer_a) -> None:
    with pytest.raises(RuntimeError):
        async with tenant_scope(dealer_a.id):
            await ApiKey.insert_in_tenant(ApiKey(name="nested", prefix="n1", key_hash="h"))
            async with tenant_scope(dealer_a.id, write=False):
                assert await ApiKey.count_in_tenant().where(ApiKey.name == "nested") == 1
            raise RuntimeError("roll the whole thing back")
    async with tenant_scope(dealer_a.id, write=False):
        assert await ApiKey.count_in_tenant().where(ApiKey.name == "nested") == 0


async def test_insert_rows_writes_single_and_several_rows_with_generated_ids(dealer_a) -> None:
    async with tenant_scope(dealer_a.id):
        await insert_rows(
            (ApiKey, [{"name": "one", "prefix": "p1", "key_hash": "h", "scopes": ["read"]}]),
            (ApiKey, [{"name": f"many{n}", "prefix": f"m{n}", "key_hash": "h",
                       "scopes": {"n": n}} for n in range(3)]))
    async with tenant_scope(dealer_a.id, write=False):
        rows = await ApiKey.select_in_tenant(ApiKey.id, ApiKey.name, ApiKey.scopes).where(
            ApiKey.key_hash == "h").output(load_json=True)
    assert sorted((row["name"], row["scopes"]) for row in rows) == [
        ("many0", {"n": 0}), ("many1", {"n": 1}), ("many2", {"n": 2}), ("one", ["read"])]
    assert len({row["id"] for row in rows}) == 4 and all(row["id"] for row in rows)


@pytest.mark.postgres
async def test_generic_plans_hold_for_the_scope_only(dealer_a) -> None:
    settings = ("select current_setting('plan_cache_mode') as plans, "
                "current_setting('app.tenant_id') as tenant")
    async with tenant_scope(dealer_a.id, generic_plans=True):
        assert await db.fetch(settings) == [
            {"plans": "force_generic_plan", "tenant": str(dealer_a.id)}]
    async with tenant_scope(dealer_a.id):
        assert await db.fetch(settings) == [{"plans": "auto", "tenant": str(dealer_a.id)}]
