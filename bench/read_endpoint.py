"""Authenticated, tenant-scoped single-row read vs a bare Litestar endpoint (PostgreSQL)."""

from __future__ import annotations

import json

from bench.common import PG_ADMIN_DSN, load, postgres_database, result, run_python, served

SETUP = """
import asyncio, json, uuid
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.auth import create_api_key, hash_password, issue_token
from dealerhub.platform.tables import AppUser, Dealer, Region

async def main():
    await db.start(get_settings())
    region = Region(code="B", name_zh="基准", name_en="Bench")
    await Region.insert(region)
    target = None
    for number in range({dealers}):
        dealer = Dealer(code=f"B{{number:04d}}", name=f"Bench {{number}}", region=region.id,
                        city="上海")
        await Dealer.insert(dealer)
        for _ in range({keys}):
            issued = await create_api_key(dealer.id, "bench", ["read"], None)
        if target is None:
            user = AppUser(email="bench@bench.example", display_name="bench",
                           password_hash=hash_password("bench-password-1"), role="dealer_admin",
                           dealer=dealer.id)
            await AppUser.insert(user)
            target = (str(dealer.id), str(issued.api_key.id), issue_token(user))
    await db.stop(get_settings())
    print(json.dumps(target))

asyncio.run(main())
"""


def main(quick: bool) -> dict[str, object]:
    seconds, connections = (5, 16) if quick else (30, 32)
    dealers, keys = (5, 5) if quick else (100, 20)
    with postgres_database("read") as database:
        env = database.env()
        tenant_id, key_id, token = json.loads(
            run_python(SETUP.format(dealers=dealers, keys=keys), env)
        )
        headers = {"Authorization": f"Bearer {token}"}
        with served("dealerhub.app:create_app", env) as base:
            load(f"{base}/api/v1/api-keys/{key_id}", headers, 2, connections)  # warm-up
            ours = load(f"{base}/api/v1/api-keys/{key_id}", headers, seconds, connections)
        from dealerhub.platform.pg_admin import with_database

        bare_env = {**env, "BARE_DSN": with_database(PG_ADMIN_DSN, database.name)}
        with served("bench._bare_read_app:create_app", bare_env) as base:
            load(f"{base}/bare/{tenant_id}/{key_id}", {}, 2, connections)
            bare = load(f"{base}/bare/{tenant_id}/{key_id}", {}, seconds, connections)
    if ours.errors or bare.errors:
        raise SystemExit(f"errors during the run: ours={ours.errors} bare={bare.errors}")
    print(
        f"dealerhub: {ours.requests_per_second:.0f} req/s p50 {ours.p50_ms:.2f} ms "
        f"p99 {ours.p99_ms:.2f} ms ({ours.tool})"
    )
    print(
        f"bare     : {bare.requests_per_second:.0f} req/s p50 {bare.p50_ms:.2f} ms "
        f"p99 {bare.p99_ms:.2f} ms"
    )
    print(f"ratio    : {ours.requests_per_second / bare.requests_per_second:.2f} (target >= 0.5)")
    return result(
        "read_endpoint",
        unit="req/s",
        value=ours.requests_per_second,
        baseline=bare.requests_per_second,
        target=0.5,
        target_on="ratio",
        better="higher",
        size={
            "dealers": dealers,
            "api_keys": dealers * keys,
            "seconds": seconds,
            "connections": connections,
        },
        p99_ms=round(ours.p99_ms, 2),
        baseline_p99_ms=round(bare.p99_ms, 2),
        tool=ours.tool,
    )
