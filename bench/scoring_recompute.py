"""Full recompute of one month's rollups (week, month, quarter, year) from 50,000,000
daily facts (PostgreSQL) vs one hand-written SQL aggregation of the same facts."""

from __future__ import annotations

import asyncio
import json
import time

from bench.common import PG_ADMIN_DSN, postgres_database, result, run_python
from dealerhub.platform.pg_admin import with_database
from dealerhub.platform.scoring.metrics import BENCHMARKED

KEYS = [m.key for m in BENCHMARKED]
DAYS = 730
FIRST_DAY = "2025-01-01"
MONTH = "2026-03-01"
SEED = [
    "insert into region (id, created_at, code, name_zh, name_en) "
    "values (gen_random_uuid(), now(), 'R1', '大区', 'Region')",
    "insert into dealer (id, created_at, code, name, region, city, time_zone, status, tier, "
    "size_band) select gen_random_uuid(), now(), 'B' || lpad(i::text, 5, '0'), "
    "'经销商' || i, (select id from region limit 1), '上海', 'Asia/Shanghai', 'active', "
    "'standard', 'medium' from generate_series(1, {dealers}) i",
    # one fact per dealer, metric and day; unique key index in place, as in production
    "insert into metric_fact (id, created_at, dealer_id, staff_id, metric_key, "
    "metric_version, day, numerator, denominator) "
    "select gen_random_uuid(), now(), d.id, '00000000-0000-0000-0000-000000000000', k, 1, "
    "date '{first}' + i, floor(random() * 20), 20 "
    "from dealer d cross join unnest(array{keys}::text[]) k "
    "cross join generate_series(0, {last}) i",
    "analyze metric_fact",
]
# The baseline: the month's sums per dealer, metric and version, written once by hand.
HAND_WRITTEN = """
create temp table hand_month as
select dealer_id, staff_id, metric_key, metric_version, sum(numerator) as numerator,
       sum(denominator) as denominator
from metric_fact where day >= $1 and day < $2
group by dealer_id, staff_id, metric_key, metric_version
"""

RECOMPUTE = """
import asyncio, json, time
from datetime import date
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.scoring import service

async def main():
    await db.start(get_settings())
    month = date.fromisoformat("{month}")
    await service.rebuild_rollups("month", month, month)  # warm-up, as the baseline had
    started = time.perf_counter()
    rows = await service.rebuild_rollups("month", month, month)
    month_s = time.perf_counter() - started
    started = time.perf_counter()
    for grain in ("week", "quarter", "year"):
        await service.rebuild_rollups(grain, month, month)
    others_s = time.perf_counter() - started
    await db.stop(get_settings())
    print(json.dumps({{"month_s": month_s, "others_s": others_s, "rows": rows}}))

asyncio.run(main())
"""


async def _seed_and_baseline(dsn: str, dealers: int) -> tuple[float, int]:
    from datetime import date

    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await connection.execute(
                statement.format(dealers=dealers, keys=json.dumps(KEYS).replace('"', "'"),
                                 first=FIRST_DAY, last=DAYS - 1)
            )
        facts = await connection.fetchval("select count(*) from metric_fact")
        month = date.fromisoformat(MONTH)
        await connection.fetchval(  # the same warm cache for both
            "select count(*) from metric_fact where day >= $1 and day < $2",
            month, date(2026, 4, 1))
        started = time.perf_counter()
        await connection.execute(HAND_WRITTEN, month, date(2026, 4, 1))
        baseline = time.perf_counter() - started
    finally:
        await connection.close()
    return baseline, facts


def main(quick: bool) -> dict[str, object]:
    dealers = 100 if quick else 3_425  # × 20 metrics × 730 days ≈ 1.5 M / 50 M facts
    with postgres_database("recompute") as database:
        admin_dsn = with_database(PG_ADMIN_DSN, database.name)
        baseline, facts = asyncio.run(_seed_and_baseline(admin_dsn, dealers))
        ours = json.loads(run_python(RECOMPUTE.format(month=MONTH), database.env()))
    return result(
        "scoring_recompute", unit="s", value=ours["month_s"], baseline=baseline,
        target=2.0, target_on="ratio", better="lower",
        size={"dealers": dealers, "metrics": len(KEYS), "days": DAYS, "facts": facts},
        rollup_rows=ours["rows"], week_quarter_year_s=round(ours["others_s"], 3),
    )
