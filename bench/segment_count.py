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

# The same count written by hand with the values inlined (so every run is planned for
# them), run as the app role inside the dealer's scope like ours: row-level security applies
# to both.
HAND_WRITTEN = """
select count(*) from customer c where c.tenant_id = '{dealer}' and c.erased_at is null
  and c.city = '上海' and c.customer_type in ('value', 'relationship')
  and exists (select 1 from vehicle v where v.tenant_id = c.tenant_id and v.customer_id = c.id
  and v.model_code in ('A6', 'Q5') and v.purchase_date <= date '{newest}'
  and v.purchase_date > date '{oldest}')
"""


async def _seed(dsn: str, customers: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await connection.execute(statement.format(dealers=1, vehicles=customers))
    finally:
        await connection.close()


async def _baseline(app_dsn: str, rounds: int) -> list[float]:
    import time
    from datetime import date

    import asyncpg

    from dealerhub.tenants.months import add_months

    connection = await asyncpg.connect(app_dsn)
    try:
        dealer_id = await connection.fetchval("select id from dealer limit 1")
        today = date.today()
        sql = HAND_WRITTEN.format(dealer=dealer_id, newest=add_months(today, -24),
                                  oldest=add_months(today, -72))
        samples = []
        for _ in range(rounds + 1):  # the first, uncounted, reads the fresh load
            started = time.perf_counter()
            async with connection.transaction():
                await connection.execute(
                    f"select set_config('app.tenant_id', '{dealer_id}', true)")
                await connection.fetchval(sql)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return samples[1:]


def main(quick: bool) -> dict[str, object]:
    customers, rounds = (50_000, 10) if quick else (200_000, 20)
    with postgres_database("segment") as database:
        # bulk load as the server's admin; both counts as the app role under RLS
        asyncio.run(_seed(with_database(PG_ADMIN_DSN, database.name), customers))
        baseline = asyncio.run(_baseline(database.app_dsn, rounds))
        ours = json.loads(run_python(COUNT.format(rounds=rounds, definition=DEFINITION),
                                     database.env()))
    value = statistics.median(ours["samples"])
    return result(
        "segment_count", unit="ms", value=value, baseline=statistics.median(baseline),
        target=200, target_on="value", better="lower",
        size={"customers": customers, "vehicles": customers}, count=ours["count"],
        p_max_ms=round(max(ours["samples"]), 1),
    )
