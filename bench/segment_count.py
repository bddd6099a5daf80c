"""Live segment count for a dealer with 200,000 customers (PostgreSQL, through the app's
segment compiler and tenant scope) vs the same count written by hand."""

from __future__ import annotations

import asyncio
import json
import statistics

from bench.common import PG_ADMIN_DSN, postgres_database, result, run_python
from bench.due_lists import SEED
from dealerhub.platform.pg_admin import with_database

DEFINITION = {"rules": [
    {"field": "model", "op": "in", "values": ["A6", "Q5"]},
    {"field": "vehicle_age_years", "op": "between", "min": 2, "max": 5},
    {"field": "city", "op": "in", "values": ["上海"]},
    {"field": "customer_type", "op": "in", "values": ["value", "relationship"]},
]}

COUNT = """
import asyncio, json, time, statistics
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer
from dealerhub.platform.campaigns.segments.service import count_segment

async def main():
    await db.start(get_settings())
    dealer_id = (await Dealer.select(Dealer.id).first())["id"]
    samples, count = [], None
    for _ in range({rounds}):
        started = time.perf_counter()
        count = await count_segment(dealer_id, {definition!r})
        samples.append((time.perf_counter() - started) * 1000)
    await db.stop(get_settings())
    print(json.dumps({{"samples": samples, "count": count}}))

asyncio.run(main())
"""

HAND_WRITTEN = """
select count(*) from customer c where c.tenant_id = $1 and c.erased_at is null
  and c.city = '上海' and c.customer_type in ('value', 'relationship')
  and exists (select 1 from vehicle v where v.tenant_id = c.tenant_id and v.customer_id = c.id
  and v.model_code in ('A6', 'Q5') and v.purchase_date <= (current_date - interval '2 years')
  and v.purchase_date > (current_date - interval '6 years'))
"""


async def _seed_and_baseline(dsn: str, customers: int, rounds: int) -> list[float]:
    import time

    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await connection.execute(statement.format(dealers=1, vehicles=customers))
        dealer_id = await connection.fetchval("select id from dealer limit 1")
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            await connection.fetchval(HAND_WRITTEN, dealer_id)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return samples


def main(quick: bool) -> dict[str, object]:
    customers, rounds = (50_000, 10) if quick else (200_000, 20)
    with postgres_database("segment") as database:
        admin_dsn = with_database(PG_ADMIN_DSN, database.name)
        baseline = asyncio.run(_seed_and_baseline(admin_dsn, customers, rounds))
        ours = json.loads(run_python(COUNT.format(rounds=rounds, definition=DEFINITION),
                                     database.env()))
    value = statistics.median(ours["samples"])
    return result(
        "segment_count", unit="ms", value=value, baseline=statistics.median(baseline),
        target=200, target_on="value", better="lower",
        size={"customers": customers, "vehicles": customers}, count=ours["count"],
        p_max_ms=round(max(ours["samples"]), 1),
    )
