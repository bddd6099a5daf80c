"""Authenticated, tenant-scoped single-row read vs a bare Litestar endpoint (PostgreSQL)."""

from __future__ import annotations

import json
import statistics

from bench.common import (
    PG_ADMIN_DSN,
    load,
    median_round,
    postgres_database,
    result,
    run_python,
    served,
)
from dealerhub.platform.pg_admin import with_database

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
    rounds, seconds, connections = (2, 3, 16) if quick else (5, 8, 32)
    dealers, keys = (5, 5) if quick else (100, 20)
    with postgres_database("read") as database:
        env = database.env()
        setup = SETUP.format(dealers=dealers, keys=keys)
        tenant_id, key_id, token = json.loads(run_python(setup, env))
        headers = {"Authorization": f"Bearer {token}"}
        bare_env = {**env, "BARE_DSN": with_database(PG_ADMIN_DSN, database.name)}
        with (
            served("dealerhub.app:create_app", env) as ours_base,
            served("bench._bare_read_app:create_app", bare_env) as bare_base,
        ):
            ours_url = f"{ours_base}/api/v1/api-keys/{key_id}"
            bare_url = f"{bare_base}/bare/{tenant_id}/{key_id}"
            load(ours_url, headers, 2, connections)  # warm-up
            load(bare_url, {}, 2, connections)
            ours_rounds, bare_rounds = [], []
            # Alternating rounds, so load from anything else on the machine hits both alike.
            for _ in range(rounds):
                ours_rounds.append(load(ours_url, headers, seconds, connections))
                bare_rounds.append(load(bare_url, {}, seconds, connections))
    ours, bare = median_round(ours_rounds), median_round(bare_rounds)
    if any(r.errors for r in ours_rounds + bare_rounds):
        raise SystemExit("non-2xx responses during the run")
    cpu = {
        label: statistics.median(r.server_cpu_ms_per_request or 0.0 for r in runs)
        for label, runs in (("ours", ours_rounds), ("bare", bare_rounds))
    }
    for label, figures, key in (("dealerhub", ours, "ours"), ("bare", bare, "bare")):
        print(
            f"{label:<9}: {figures.requests_per_second:.0f} req/s p50 {figures.p50_ms:.2f} ms "
            f"p99 {figures.p99_ms:.2f} ms, server CPU {cpu[key]:.3f} ms/request "
            f"(median of {rounds} rounds, {figures.tool})"
        )
    print(
        f"ratio    : {ours.requests_per_second / bare.requests_per_second:.2f} (target >= 0.5); "
        f"CPU-cost ratio bare/ours {cpu['bare'] / cpu['ours']:.2f}"
    )
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
            "rounds": rounds,
            "seconds_per_round": seconds,
            "connections": connections,
        },
        p99_ms=round(ours.p99_ms, 2),
        baseline_p99_ms=round(bare.p99_ms, 2),
        tool=ours.tool,
        server_cpu_ms_per_request=round(cpu["ours"], 3),
        baseline_server_cpu_ms_per_request=round(cpu["bare"], 3),
    )
