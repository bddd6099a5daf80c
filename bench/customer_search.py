"""Customer search p99 over HTTP (name prefix, phone suffix, plate, VIN prefix) on a tenant
of 200,000 customers (PostgreSQL); a value target, `/health` p99 printed for context."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from bench.common import PG_ADMIN_DSN, percentile, postgres_database, result, run_python, served

SETUP = """
import runpy, sys
sys.argv = ["setup", "search", "{customers}"]
runpy.run_module("bench._customer_base", run_name="__main__")
"""
TOKEN = """
import asyncio, uuid
from dealerhub.platform import db
from dealerhub.platform.auth import hash_password, issue_token
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import AppUser

async def main():
    await db.start(get_settings())
    user = AppUser(email="cs@bench.example", display_name="bench", role="cs_agent",
                   password_hash=hash_password("bench-password-1"), dealer=uuid.UUID("{tenant_id}"))
    await AppUser.insert(user)
    await db.stop(get_settings())
    print(issue_token(user))

asyncio.run(main())
"""
SERVICE = """
import asyncio, json, time, uuid
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.tenants.customers.service import search_customers

async def main():
    await db.start(get_settings())
    tenant_id, samples = uuid.UUID("{tenant_id}"), []
    for query in json.loads({queries!r}) * 2:
        started = time.perf_counter()
        await search_customers(tenant_id, query, per_page=25)
        samples.append((time.perf_counter() - started) * 1000)
    await db.stop(get_settings())
    print(json.dumps(sorted(samples)))

asyncio.run(main())
"""
TARGET_P99_MS = 50.0


async def _analyze(dsn: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("analyze")
    finally:
        await connection.close()


def _timed(base: str, headers: dict[str, str], queries: list[str], rounds: int,
           path: str) -> tuple[list[float], int]:
    samples, errors = [], 0
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                response = client.get(path, params={"q": query, "per_page": 25})
                samples.append((time.perf_counter() - started) * 1000)
                errors += response.status_code >= 400 and path.startswith("/api/v1/customers")
    return samples, errors


def main(quick: bool) -> dict[str, object]:
    customers = 20_000 if quick else 200_000
    rounds = 2 if quick else 5
    from dealerhub.platform.pg_admin import with_database

    with postgres_database("search") as database:
        env = database.env()
        setup = json.loads(run_python(SETUP.format(customers=customers), env))
        asyncio.run(_analyze(with_database(PG_ADMIN_DSN, database.name)))
        key = run_python(TOKEN.format(tenant_id=setup["tenant_id"]), env)
        service = json.loads(run_python(SERVICE.format(**setup), env))
        queries = json.loads(setup["queries"])
        headers = {"Authorization": f"Bearer {key}"}
        with served("bench._api_only:create_app", env) as base:
            _timed(base, headers, queries[:20], 1, "/api/v1/customers")  # warm-up
            ours, errors = _timed(base, headers, queries, rounds, "/api/v1/customers")
            bare, _ = _timed(base, {}, queries, 1, "/health")
    if errors:
        raise SystemExit(f"{errors} searches failed")
    p99, p50 = percentile(ours, 99), percentile(ours, 50)
    print(f"search: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(ours)} queries "
          f"(health p99 {percentile(bare, 99):.1f} ms; the service alone: p50 "
          f"{percentile(service, 50):.1f} ms, p99 {percentile(service, 99):.1f} ms)")
    return result("customer_search", unit="ms (p99)", value=p99, baseline=None,
                  target=TARGET_P99_MS, target_on="value", better="lower",
                  size={"customers": customers, "vehicles": customers,
                        "queries": len(ours)}, p50_ms=round(p50, 2),
                  health_p99_ms=round(percentile(bare, 99), 2),
                  service_p99_ms=round(percentile(service, 99), 2))
