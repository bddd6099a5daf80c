"""Dealer benchmark view (own values, anonymous distributions, rank, quartile, trend) for
3,000 dealers × 20 metrics × 24 months of rollups (PostgreSQL) vs the same view computed
by hand-written SQL with percentile_cont straight from the rollups."""

from __future__ import annotations

import asyncio
import json
import statistics

from bench.common import PG_ADMIN_DSN, percentile, postgres_database, result, run_python
from dealerhub.platform.pg_admin import with_database
from dealerhub.platform.scoring.metrics import BENCHMARKED

MONTHS = 24
KEYS = [m.key for m in BENCHMARKED]
VERSIONS = [m.version for m in BENCHMARKED]
SEED = [
    "insert into region (id, created_at, code, name_zh, name_en) select gen_random_uuid(), "
    "now(), 'R' || r, '大区' || r, 'Region ' || r from generate_series(1, 8) r",
    "insert into dealer (id, created_at, code, name, region, city, time_zone, status, tier, "
    "size_band) select gen_random_uuid(), now(), 'B' || lpad(i::text, 5, '0'), "
    "'经销商' || i, (select id from region order by code offset (i % 8) limit 1), '上海', "
    "'Asia/Shanghai', 'active', (array['flagship','standard','compact'])[1 + i % 3], "
    "(array['large','medium','small'])[1 + i % 3] from generate_series(1, {dealers}) i",
    # one row per dealer, metric and month: the monthly rollups the view reads
    "insert into metric_rollup (id, created_at, dealer_id, staff_id, metric_key, "
    "metric_version, grain, period_start, numerator, denominator) "
    "select gen_random_uuid(), now(), d.id, '00000000-0000-0000-0000-000000000000', k, v, "
    "'month', (date '2025-01-01' + make_interval(months => m))::date, "
    "round((random() * 200 + 30)::numeric * random()::numeric, 1), "
    "round((random() * 200 + 30)::numeric) "
    "from dealer d cross join unnest(array{keys}::text[], array{versions}::int[]) kv(k, v) "
    "cross join generate_series(0, {last}) m",
    "analyze",
]
PERIOD = "2026-12-01"  # month 23 of the 24

VIEW = """
import asyncio, json, random, time
from datetime import date
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.scoring import service
from dealerhub.platform.tables import Dealer

async def main():
    await db.start(get_settings())
    month = date.fromisoformat("{period}")
    started = time.perf_counter()
    await service.refresh_benchmarks("month", month)
    refresh = time.perf_counter() - started
    ids = [r["id"] for r in await Dealer.select(Dealer.id)]
    rng = random.Random(7)
    for dealer_id in ids[:20]:  # warm-up
        await service.scorecard(dealer_id, "month", month)
    samples = []
    for _ in range({rounds}):
        dealer_id = rng.choice(ids)
        started = time.perf_counter()
        card = await service.scorecard(dealer_id, "month", month)
        samples.append((time.perf_counter() - started) * 1000)
        assert card is not None and sum(1 for l in card.lines if l.rank is not None) >= 19
    await db.stop(get_settings())
    print(json.dumps({{"samples": samples, "refresh_s": refresh}}))

asyncio.run(main())
"""

# The same view without precomputed distributions: the dealer's values, this and the
# previous month, and per metric p10…p90, mean, n and the dealer's rank over all dealers;
# of each metric's current version, as the view reads.
HAND_WRITTEN = """
with v as (
  select dealer_id, metric_key, metric_version, numerator / nullif(denominator, 0) as value
  from metric_rollup join unnest($4::text[], $5::int[]) c(key, version)
    on c.key = metric_key and c.version = metric_version
  where grain = 'month' and period_start = $2
    and staff_id = '00000000-0000-0000-0000-000000000000' and denominator >= 20
)
select v.metric_key,
  percentile_cont(array[0.1, 0.25, 0.5, 0.75, 0.9]) within group (order by v.value) as cuts,
  avg(v.value) as mean, count(*) as n,
  avg((v.value < own.value)::int) as rank,
  max(own.value) as own,
  max(prev.numerator / nullif(prev.denominator, 0)) as previous
from v
join v own on own.metric_key = v.metric_key and own.dealer_id = $1
left join metric_rollup prev on prev.dealer_id = $1 and prev.metric_key = v.metric_key
  and prev.grain = 'month' and prev.period_start = $3 and prev.metric_version = v.metric_version
  and prev.staff_id = '00000000-0000-0000-0000-000000000000'
group by v.metric_key
"""


async def _seed_and_baseline(dsn: str, dealers: int, rounds: int) -> list[float]:
    import random
    import time
    from datetime import date

    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await connection.execute(
                statement.format(dealers=dealers, keys=json.dumps(KEYS).replace('"', "'"),
                                 versions=VERSIONS, last=MONTHS - 1)
            )
        ids = [r["id"] for r in await connection.fetch("select id from dealer")]
        month, previous = date.fromisoformat(PERIOD), date(2026, 11, 1)
        rng = random.Random(7)
        samples = []
        for index in range(rounds + 20):
            started = time.perf_counter()
            rows = await connection.fetch(HAND_WRITTEN, rng.choice(ids), month, previous,
                                          KEYS, VERSIONS)
            if index >= 20:  # after the same warm-up
                samples.append((time.perf_counter() - started) * 1000)
            assert len(rows) >= 19
    finally:
        await connection.close()
    return samples


def main(quick: bool) -> dict[str, object]:
    dealers, rounds = (600, 200) if quick else (3_000, 1_000)
    with postgres_database("benchview") as database:
        admin_dsn = with_database(PG_ADMIN_DSN, database.name)
        baseline = asyncio.run(_seed_and_baseline(admin_dsn, dealers, rounds))
        ours = json.loads(run_python(VIEW.format(rounds=rounds, period=PERIOD), database.env()))
    p99 = percentile(ours["samples"], 99)
    return result(
        "benchmark_view", unit="ms", value=p99, baseline=percentile(baseline, 99),
        target=100, target_on="value", better="lower",
        size={"dealers": dealers, "metrics": len(KEYS), "months": MONTHS,
              "rollup_rows": dealers * len(KEYS) * MONTHS, "requests": rounds},
        p50_ms=round(statistics.median(ours["samples"]), 2),
        baseline_p50_ms=round(statistics.median(baseline), 2),
        refresh_one_month_s=round(ours["refresh_s"], 2),
    )
