"""The tenant isolation sweep, beyond the route walk in tests/test_isolation.py: every tenant
table holds rows of two dealers, and neither the table helpers, nor raw SQL under
row-level security, nor any GET route (API or page), nor an API key shows or changes the
other dealer's rows; headquarters' principals see no customer's personal data anywhere.

Tables and routes are enumerated from the code, so new ones are covered without edits.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from dealerhub.app import PUBLIC_PATHS, create_app
from dealerhub.platform import db
from dealerhub.platform.tenancy import tenant_scope
from tests.conftest import DealerFixture
from tests.security.world import PATH_PARAM, Principal, World, fill_path, full_schema, tenant_tables
from tests.test_isolation import synthesize

pytestmark = pytest.mark.anyio
PUBLIC = re.compile("|".join(PUBLIC_PATHS))
BODY_METHODS = {"post", "put", "patch"}


def schema_operations(*methods: str) -> tuple[list[tuple[str, str, dict[str, Any]]], dict]:
    """(path, method, operation) for every API operation and page route."""
    schema = full_schema(create_app(embedded_jobs=False))
    found = [(path, method, operation) for path, item in schema["paths"].items()
             for method, operation in item.items() if method in methods]
    return found, schema.get("components", {}).get("schemas", {})


def required_query(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: synthesize(p.get("schema", {}), components, {})
            for p in operation.get("parameters", [])
            if p.get("in") == "query" and p.get("required")}


async def walk_gets(client: Any, world: World, principal: Principal) -> list[str]:
    """GET every route as the principal with dealer A's objects in the path; returns the
    failures (a 5xx, or a value the principal must not see)."""
    operations, components = schema_operations("get")
    failures = []
    for path, _, operation in operations:
        url = fill_path(path, world.a_ids)
        response = await client.get(url, headers=principal.headers,
                                    params=required_query(operation, components),
                                    follow_redirects=False)
        if response.status_code >= 500:
            failures.append(f"{principal.name} GET {url} -> {response.status_code}")
        leaked = world.leaks(principal, response.text)
        if leaked:
            failures.append(f"{principal.name} GET {url} shows {leaked[:5]}")
    return failures


async def test_every_tenant_table_holds_rows_of_both_dealers(world: World) -> None:
    """The sweep means something only if every table has rows to leak."""
    for dealer in (world.a, world.b):
        async with tenant_scope(dealer.id, write=False):
            empty = [t._meta.tablename for t in tenant_tables()
                     if not await t.count_in_tenant()]
        assert not empty, f"no rows for {dealer.code} in {empty}: add them in fill_remaining()"


async def test_table_helpers_in_a_scope_return_only_its_rows(world: World) -> None:
    failures = []
    async with tenant_scope(world.a.id, write=False):
        for table in tenant_tables():
            name = table._meta.tablename
            b_ids = world.b_rows[name]
            rows = await table.select_in_tenant()
            objects = await table.objects_in_tenant()
            if {str(r["id"]) for r in rows} & b_ids or {r["tenant_id"] for r in rows} - {
                    world.a.id}:
                failures.append(f"{name}: select_in_tenant returned another tenant's rows")
            if {str(o.id) for o in objects} & b_ids:
                failures.append(f"{name}: objects_in_tenant returned B's rows")
            if await table.count_in_tenant() != len(rows):
                failures.append(f"{name}: count_in_tenant disagrees with select_in_tenant")
            for b_id in sorted(b_ids)[:3]:
                if await table.get_in_tenant(b_id) is not None:
                    failures.append(f"{name}: get_in_tenant returned B's row {b_id}")
    assert not failures, "\n".join(failures)


@pytest.mark.postgres
async def test_raw_select_without_filter_returns_only_the_scope_tenant(world: World) -> None:
    """Row-level security alone: SELECT * with no tenant filter, inside A's scope."""
    failures = []
    async with tenant_scope(world.a.id, write=False):
        for table in tenant_tables():
            name = table._meta.tablename
            rows = await db.fetch(f'select * from "{name}"')
            tenants = {str(row["tenant_id"]) for row in rows}
            if tenants - {str(world.a.id)} or {str(r["id"]) for r in rows} & world.b_rows[name]:
                failures.append(f"{name}: raw select returned rows of {tenants}")
            if len(rows) != await table.count_in_tenant():
                failures.append(f"{name}: raw select saw {len(rows)} rows, the helper fewer")
    assert not failures, "\n".join(failures)


async def test_dealer_a_sees_nothing_of_b_on_any_get_route(security_client, world) -> None:
    failures = []
    for principal in world.principals:
        if principal.dealer is world.a:
            failures += await walk_gets(security_client, world, principal)
    assert not failures, "\n".join(failures)


async def test_headquarters_sees_no_customer_personal_data(security_client, world) -> None:
    failures = []
    for principal in world.principals:
        if principal.is_oem:
            failures += await walk_gets(security_client, world, principal)
    assert not failures, "\n".join(failures)


async def fingerprint(dealer: DealerFixture) -> dict[str, str]:
    """A digest of every tenant table's rows of the dealer: any write changes it."""
    digests = {}
    async with tenant_scope(dealer.id, write=False):
        for table in tenant_tables():
            rows = await table.select_in_tenant().order_by(table.id)
            digests[table._meta.tablename] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


async def test_api_key_of_a_can_neither_read_nor_change_b(security_client, world) -> None:
    """Every operation and page route with a path parameter, with B's objects, as A's
    all-scopes API key (with the CSRF pair a page form needs): 403 or 404, nothing of B
    in the answer, and B's rows unchanged."""
    (key,) = [p for p in world.principals if p.name == "api_key"]
    operations, components = schema_operations("get", "post", "put", "patch", "delete")
    missing = {name for path, _, _ in operations if not PUBLIC.match(path)
               for name in PATH_PARAM.findall(path)} - world.b_ids.keys()
    assert not missing, f"give these page path parameters a PAGE_PARAM_ entry: {missing}"
    await security_client.get("/login")
    csrf = security_client.cookies.get("dh_csrf") or ""
    before = await fingerprint(world.b)
    failures = []
    for path, method, operation in operations:
        if not PATH_PARAM.search(path) or PUBLIC.match(path):
            continue
        url = fill_path(path, world.b_ids)
        body = None
        if method in BODY_METHODS:
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = synthesize(content["application/json"]["schema"], components,
                                  world.b_ids)
        response = await security_client.request(
            method.upper(), url, json=body, params=required_query(operation, components),
            headers=key.headers | {"x-csrftoken": csrf}, follow_redirects=False)
        if response.status_code not in {403, 404}:
            failures.append(f"{method.upper()} {url} -> {response.status_code}")
        if leaked := world.leaks(key, response.text):
            failures.append(f"{method.upper()} {url} shows {leaked[:5]}")
    after = await fingerprint(world.b)
    changed = sorted(name for name in before if before[name] != after[name])
    assert not failures and not changed, "\n".join([*failures, f"B's rows changed: {changed}"])
