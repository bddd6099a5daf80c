"""Full recompute of one month's rollups from 50,000,000 daily facts (PostgreSQL) vs one
hand-written SQL aggregation of the same facts, alternating in the same process."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date

import asyncpg

from bench.common import PG_ADMIN_DSN, postgres_database, result, run_python
from dealerhub.platform.pg_admin import with_database
from dealerhub.platform.scoring.metrics import BENCHMARKED

KEYS = [m.key for m in BENCHMARKED]
DAYS = 730
FIRST_DAY = "2025-01-01"
MONTH = "2026-03-01"
CHUNK_DAYS = 30  # one INSERT … SELECT per 30 days of every dealer's facts
LOADERS = 3  # connections inserting chunks side by side
DEALERS = [
    "insert into region (id, created_at, code, name_zh, name_en) "
    "values (gen_random_uuid(), now(), 'R1', '大区', 'Region')",
    "insert into dealer (id, created_at, code, name, region, city, time_zone, status, tier, "
    "size_band) select gen_random_uuid(), now(), 'B' || lpad(i::text, 5, '0'), "
    "'经销商' || i, (select id from region limit 1), '上海', 'Asia/Shanghai', 'active', "
    "'standard', 'medium' from generate_series(1, $1) i",
]
# One fact per dealer, metric and day, written day range by day range as the table grows in
# production. Ids are distinct v4-shaped UUIDs made from the row number: gen_random_uuid()
# alone cost ~4 µs a row here, and no measured statement reads fact ids.
FACTS = """
with d as (select id, row_number() over (order by code) - 1 as n from dealer)
insert into metric_fact (id, created_at, dealer_id, staff_id, metric_key, metric_version,
                         day, numerator, denominator)
select ('00000000-0000-4000-8000-' || lpad(to_hex((i * $3 + d.n) * 100 + m.n), 12, '0'))::uuid,
       now(), d.id, '00000000-0000-0000-0000-000000000000', m.k, 1, $4::date + i,
       floor(random() * 20), 20
from generate_series($1::int, $2::int) i cross join d
cross join unnest($5::text[]) with ordinality m(k, n)
"""
# The baseline: the month's sums per dealer, advisor, metric and version, written by hand.
HAND_WRITTEN = """
create temp table hand_month as
select dealer_id, staff_id, metric_key, metric_version, sum(numerator) as numerator,
       sum(denominator) as denominator
from metric_fact where day >= $1 and day < $2
group by dealer_id, staff_id, metric_key, metric_version
"""

# Ours (`rebuild_rollups`, as the app role) and the baseline (asyncpg, as the server admin)
# take turns; each first runs once unmeasured, so both read the month from a warm cache.
# Before each of our measured runs every stored rollup of the month is made wrong (and the
# table vacuumed and analyzed, as autovacuum would), so ours writes all of them back; a
# second run then finds them equal and writes nothing.
MEASURE = """
import asyncio, json, time
from datetime import date
import asyncpg
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.scoring import service

HAND_WRITTEN = {hand_written!r}

async def main():
    await db.start(get_settings())
    hand = await asyncpg.connect({admin_dsn!r})
    month, after = date.fromisoformat("{month}"), date.fromisoformat("{after}")

    async def baseline():
        started = time.perf_counter()
        await hand.execute(HAND_WRITTEN, month, after)
        elapsed = time.perf_counter() - started
        await hand.execute("drop table hand_month")
        return elapsed

    async def ours():
        started = time.perf_counter()
        rows = await service.rebuild_rollups("month", month, month)
        return time.perf_counter() - started, rows

    await baseline()
    await ours()
    base_s, ours_s, same_s = [], [], []
    for _ in range({rounds}):
        base_s.append(await baseline())
        await hand.execute(
            "update metric_rollup set numerator = -1 where grain = 'month' "
            "and period_start = $1", month)
        await hand.execute("vacuum (analyze) metric_rollup")
        elapsed, rows = await ours()
        ours_s.append(elapsed)
        same_s.append((await ours())[0])
    started = time.perf_counter()
    for grain in ("week", "quarter", "year"):
        await service.rebuild_rollups(grain, month, month)
    others_s = time.perf_counter() - started
    await hand.close()
    await db.stop(get_settings())
    print(json.dumps({{"ours": ours_s, "same": same_s, "baseline": base_s,
                      "others_s": others_s, "rows": rows}}))

asyncio.run(main())
"""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _load_facts(dsn: str, dealers: int) -> None:
    """The facts with the table's indexes dropped, then the indexes rebuilt as the
    migrations define them (a sorted build instead of 50M random-order insertions)."""
    first = date.fromisoformat(FIRST_DAY)
    admin = await asyncpg.connect(dsn)
    try:
        for statement in DEALERS:
            await admin.execute(statement, *([dealers] if "$1" in statement else []))
        indexes = await admin.fetch(
            "select indexname, indexdef from pg_indexes where tablename = 'metric_fact'"
        )
        await admin.execute("alter table metric_fact drop constraint metric_fact_pkey")
        for index in indexes:
            if index["indexname"] != "metric_fact_pkey":
                await admin.execute(f"drop index {index['indexname']}")
    finally:
        await admin.close()

    chunks = [(s, min(s + CHUNK_DAYS, DAYS) - 1) for s in range(0, DAYS, CHUNK_DAYS)]

    async def loader() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("set synchronous_commit = off")
            while chunks:
                low, high = chunks.pop(0)
                await connection.execute(FACTS, low, high, dealers, first, KEYS)
                _say(f"  facts: days {low}–{high} loaded")
        finally:
            await connection.close()

    await asyncio.gather(*(loader() for _ in range(LOADERS)))

    async def build(definition: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("set maintenance_work_mem = '512MB'")
            await connection.execute(definition)
            _say(f"  built: {definition}")
        finally:
            await connection.close()

    await asyncio.gather(*(build(index["indexdef"]) for index in indexes))
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(
            "alter table metric_fact add constraint metric_fact_pkey "
            "primary key using index metric_fact_pkey"
        )
        # autovacuum would otherwise start on the fresh rows during the measurement
        await admin.execute("vacuum (analyze) metric_fact")
    finally:
        await admin.close()


async def _count_and_size(dsn: str) -> tuple[int, str]:
    connection = await asyncpg.connect(dsn)
    try:
        return (
            await connection.fetchval("select count(*) from metric_fact"),
            await connection.fetchval(
                "select pg_size_pretty(pg_total_relation_size('metric_fact'))"
            ),
        )
    finally:
        await connection.close()


def main(quick: bool) -> dict[str, object]:
    dealers = 100 if quick else 3_425  # × 20 metrics × 730 days ≈ 1.5 M / 50 M facts
    rounds = 5 if quick else 3
    with postgres_database("recompute") as database:
        admin_dsn = with_database(PG_ADMIN_DSN, database.name)
        started = time.perf_counter()
        asyncio.run(_load_facts(admin_dsn, dealers))
        seed_s = time.perf_counter() - started
        facts, size = asyncio.run(_count_and_size(admin_dsn))
        _say(f"seeded {facts:,} facts ({size} with indexes) in {seed_s:.0f} s")
        measured = json.loads(
            run_python(
                MEASURE.format(
                    hand_written=HAND_WRITTEN,
                    admin_dsn=admin_dsn,
                    month=MONTH,
                    after="2026-04-01",
                    rounds=rounds,
                ),
                database.env(),
            )
        )
    ours, baseline = sorted(measured["ours"]), sorted(measured["baseline"])
    return result(
        "scoring_recompute",
        unit="s",
        value=ours[len(ours) // 2],
        baseline=baseline[len(baseline) // 2],
        target=2.0,
        target_on="ratio",
        better="lower",
        size={"dealers": dealers, "metrics": len(KEYS), "days": DAYS, "facts": facts},
        rounds={
            "ours_s": [round(s, 3) for s in measured["ours"]],
            "baseline_s": [round(s, 3) for s in measured["baseline"]],
            "ours_unchanged_s": [round(s, 3) for s in measured["same"]],
        },
        seed_s=round(seed_s, 1),
        table_size=size,
        rollup_rows=measured["rows"],
        week_quarter_year_s=round(measured["others_s"], 3),
    )
