"""Daily due-list generation for every dealer (PostgreSQL, one job per dealer in its tenant
scope) vs one hand-written query writing the same lists for all dealers at once."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import asyncpg

from bench.common import PG_ADMIN_DSN, cpu_seconds, postgres_database, result, run_python
from dealerhub.platform.pg_admin import with_database

NOW = datetime(2026, 6, 15, 1, 30, tzinfo=UTC)
CONCURRENCY = 4

# Bulk data straight from generate_series: dealers in two time zones,
# one vehicle per customer, dates spread so that every rule fires; half the vehicles with
# a maintenance visit and some with declined work.
SEED = [
    "insert into region (id, created_at, code, name_zh, name_en) "
    "values (gen_random_uuid(), now(), 'BENCH', '基准', 'Bench')",
    "insert into dealer (id, created_at, code, name, region, city, time_zone, status, tier, "
    "size_band) select gen_random_uuid(), now(), 'B' || g, 'Bench ' || g, "
    "(select id from region where code = 'BENCH'), '上海', case when g % 2 = 0 then "
    "'Asia/Shanghai' else 'Asia/Urumqi' end, 'active', 'standard', 'medium' "
    "from generate_series(1, {dealers}) g",
    "create temp table bench_dealer as select id, row_number() over (order by id) - 1 as n "
    "from dealer",
    "insert into customer (id, tenant_id, name, gender, birth_date, city, customer_type, "
    "category, locale, created_at, updated_at, last_visit_at) "
    "select gen_random_uuid(), d.id, '客户' || g, case when g % 2 = 0 then 'male' else 'female' "
    "end, date '1960-01-01' + ((g::bigint * 7919) % 15000)::int, "
    "case when g % 3 = 0 then '杭州' else '上海' end, "
    "(array['value', 'convenience', 'relationship'])[1 + g % 3], 'won', 'zh-CN', "
    "timestamptz '2023-01-01', timestamptz '2023-01-01', "
    "case when g % 4 = 0 then null else timestamptz '2026-06-15' - (g % 500) * interval '1 day' "
    "end from generate_series(0, {vehicles} - 1) g join bench_dealer d on d.n = g % {dealers}",
    "insert into vehicle (id, tenant_id, customer_id, vin, model_code, purchase_date, "
    "warranty_end, insurance_expiry, next_maintenance_date, daily_km, last_odometer_km, "
    "created_at) select gen_random_uuid(), c.tenant_id, c.id, upper(substr(md5(c.id::text), 1, "
    "17)), (array['A6', 'Q5', 'EV1', 'A3'])[1 + abs(hashtext(c.id::text)) % 4], p.purchase, "
    "p.purchase + 1095, date '2026-06-15' + (abs(hashtext(c.name)) % 400) - 30, "
    "date '2026-06-15' + (abs(hashtext(c.id::text || 'n')) % 300) - 100, "
    "20 + abs(hashtext(c.name)) % 80, abs(hashtext(c.name)) % 150000, now() "
    "from customer c cross join lateral (select date '2026-06-15' - "
    "(abs(hashtext(c.id::text || 'p')) % 2400) as purchase) p",
    "insert into repair_order (id, tenant_id, vehicle_id, customer_id, ro_type, status, "
    "opened_at, closed_at, total_amount, created_at) select gen_random_uuid(), v.tenant_id, "
    "v.id, v.customer_id, 'maintenance', 'closed', o.at, o.at + interval '3 hours', 680, now() "
    "from vehicle v cross join lateral (select timestamptz '2026-06-15 02:00+00' - "
    "(abs(hashtext(v.vin)) % 720) * interval '1 day' as at) o where abs(hashtext(v.vin)) % 2 = 0",
    "insert into repair_order_line (id, tenant_id, repair_order_id, vehicle_id, "
    "operation_code, description, amount, status) select gen_random_uuid(), r.tenant_id, r.id, "
    "r.vehicle_id, 'BRAKE', '', 800, 'declined' from repair_order r "
    "where abs(hashtext(r.id::text)) % 10 = 0",
    # as autovacuum leaves a live database: hint bits set, visibility map and statistics
    # current (otherwise whichever side reads the fresh rows first pays for that)
    "vacuum analyze",
]

GENERATE = """
import asyncio, json, time, datetime
from bench.common import cpu_seconds
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer
from dealerhub.platform.campaigns.due_lists.service import generate_due_lists

async def main():
    await db.start(get_settings())
    now = datetime.datetime.fromisoformat({now!r})
    dealers = [row["id"] for row in await Dealer.select(Dealer.id)]
    # as in production: one job per dealer, a few running at once (worker threads)
    gate = asyncio.Semaphore({concurrency})

    async def one(dealer_id):
        async with gate:
            return (await generate_due_lists(dealer_id, now)).total

    started, cpu_started = time.perf_counter(), time.process_time()
    total = sum(await asyncio.gather(*(one(dealer_id) for dealer_id in dealers)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    # the pool's backends started with the run, so their whole CPU time is the run's
    backends = await db.fetch("select pid from pg_stat_activity where datname = "
                              "current_database() and backend_type = 'client backend'")
    cpu += sum(cpu_seconds(row["pid"]) for row in backends)
    await db.stop(get_settings())
    print(json.dumps({{"seconds": elapsed, "cpu_seconds": cpu, "entries": total}}))

asyncio.run(main())
"""

# The same eleven rules for all dealers in one SELECT, written by hand for PostgreSQL
# (interval arithmetic and AT TIME ZONE instead of dates computed in Python), giving the
# same rows as ours: reason, occasion, customer, vehicle, repair order, target day.
DUE = """
with d as (
  select id as tenant_id, time_zone as tz, ($1::timestamptz at time zone time_zone)::date as t
  from dealer where status = 'active'),
dh as (select d.*, to_char(t, 'YYYY') || 'H' || case when extract(month from t) <= 6
       then '1' else '2' end as half from d),
vc as (
  select v.id, v.tenant_id, v.customer_id, v.purchase_date, v.next_maintenance_date,
  v.warranty_end, v.insurance_expiry, dh.t, dh.tz, dh.half
  from vehicle v join dh on dh.tenant_id = v.tenant_id
  join customer c on c.tenant_id = v.tenant_id and c.id = v.customer_id
  where c.erased_at is null),
cd as (select c.id, c.tenant_id, c.birth_date, c.last_visit_at, c.created_at, dh.t, dh.tz,
       dh.half from customer c join dh on dh.tenant_id = c.tenant_id where c.erased_at is null),
vd(reason, tenant_id, t, customer_id, id, what, target_on) as (
  select 'first_maintenance', tenant_id, t, customer_id, id, purchase_date::text,
  purchase_date from vc where purchase_date <= t - 90 and purchase_date > t - 120
  and not exists (select 1 from repair_order r where r.tenant_id = vc.tenant_id
  and r.vehicle_id = vc.id and r.ro_type = 'maintenance')
  union all select 'next_maintenance', tenant_id, t, customer_id, id,
  next_maintenance_date::text, next_maintenance_date from vc
  where next_maintenance_date between t and t + 14
  union all select 'warranty_1m', tenant_id, t, customer_id, id, warranty_end::text,
  warranty_end from vc where warranty_end > t + 14 and warranty_end <= t + 30
  union all select 'warranty_2w', tenant_id, t, customer_id, id, warranty_end::text,
  warranty_end from vc where warranty_end between t and t + 14
  and not exists (select 1 from due_list_entry e where e.tenant_id = vc.tenant_id
  and e.vehicle_id = vc.id and e.reason = 'warranty_1m' and e.target_on = vc.warranty_end
  and e.answered_at is not null)
  union all select 'insurance_renewal', tenant_id, t, customer_id, id, insurance_expiry::text,
  insurance_expiry from vc where insurance_expiry between t and t + 30
  union all select 'lapsed', tenant_id, t, customer_id, id, half, warranty_end from vc
  where warranty_end < t and not exists (select 1 from repair_order r
  where r.tenant_id = vc.tenant_id and r.vehicle_id = vc.id
  and r.opened_at >= ((t - interval '6 months')::date + 1)::timestamp at time zone tz)
  union all select 'vehicle_birthday', tenant_id, t, customer_id, id, a.day::text, a.day
  from vc cross join lateral (select t + k as day from generate_series(0, 14) k
  where to_char(t + k, 'MM-DD') = to_char(purchase_date, 'MM-DD')
  or (to_char(purchase_date, 'MM-DD') = '02-29' and to_char(t + k, 'MM-DD') = '02-28'
  and extract(month from t + k + 1) = 3)) a
  where purchase_date <= (t - interval '12 months')::date
  union all select 'free_check', tenant_id, t, customer_id, id, to_char(t, 'YYYY'),
  warranty_end from vc where warranty_end < t and not exists (
  select 1 from repair_order_line l join repair_order r on r.tenant_id = l.tenant_id
  and r.id = l.repair_order_id where l.tenant_id = vc.tenant_id and l.vehicle_id = vc.id
  and l.operation_code = 'FREE_CHECK'
  and r.opened_at >= date_trunc('year', t)::timestamp at time zone tz))
select reason, 'v:' || id || ':' || what as occasion, customer_id, id as vehicle_id,
  null::uuid as repair_order_id, target_on, tenant_id, t from vd
union all select 'customer_birthday', 'c:' || id || ':' || a.day, id, null, null, a.day,
  tenant_id, t from cd cross join lateral (select t + k as day from generate_series(0, 7) k
  where to_char(t + k, 'MM-DD') = to_char(birth_date, 'MM-DD')
  or (to_char(birth_date, 'MM-DD') = '02-29' and to_char(t + k, 'MM-DD') = '02-28'
  and extract(month from t + k + 1) = 3)) a
union all select 'declined_work', 'ro:' || r.id, r.customer_id, r.vehicle_id, r.id, null,
  r.tenant_id, d.t from repair_order r join d on d.tenant_id = r.tenant_id
  join customer c on c.tenant_id = r.tenant_id and c.id = r.customer_id
  where c.erased_at is null and r.status = 'closed'
  and r.closed_at < (d.t - 13)::timestamp at time zone d.tz
  and r.closed_at >= (d.t - 104)::timestamp at time zone d.tz
  and exists (select 1 from repair_order_line l where l.tenant_id = r.tenant_id
  and l.repair_order_id = r.id and l.status = 'declined' and l.followed_up_at is null)
union all select 'no_contact', 'c:' || id || ':' || half, id, null, null, null, tenant_id, t
  from cd where coalesce(last_visit_at, created_at) <
  ((t - interval '6 months')::date + 1)::timestamp at time zone tz
  and not exists (select 1 from due_list_entry e where e.tenant_id = cd.tenant_id
  and e.customer_id = cd.id and e.contacted_at >=
  ((t - interval '6 months')::date + 1)::timestamp at time zone tz)
  and not exists (select 1 from campaign_recipient cr where cr.tenant_id = cd.tenant_id
  and cr.customer_id = cd.id and cr.contacted_at >=
  ((t - interval '6 months')::date + 1)::timestamp at time zone tz)
"""

# By hand, as two statements: the rows computed into a temporary table, then written into
# the entries table itself with the same keys, indexes and foreign keys as ours (as the
# server's admin: one statement for all dealers cannot run under the one-dealer row-level
# security policy). Computed and written in one INSERT … SELECT, the rules that read the
# entries (no_contact, warranty_2w) rescanned the table growing under them.
BASELINE_COMPUTE = "create temp table baseline_due as " + DUE
BASELINE_WRITE = (
    "insert into due_list_entry (id, tenant_id, reason, occasion, customer_id, vehicle_id, "
    "repair_order_id, target_on, due_on, status, created_at) select gen_random_uuid(), "
    "tenant_id, reason, occasion, customer_id, vehicle_id, repair_order_id, target_on, t, "
    "'open', $1 from baseline_due"
)


async def _seed(dsn: str, dealers: int, vehicles: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await connection.execute(statement.format(dealers=dealers, vehicles=vehicles))
    finally:
        await connection.close()


async def _timed(connection: asyncpg.Connection, sql: str) -> tuple[float, float]:
    """Seconds and the backend's CPU seconds for one statement."""
    backend = await connection.fetchval("select pg_backend_pid()")
    started, cpu_started = time.perf_counter(), cpu_seconds(backend)
    await connection.execute(sql, NOW)
    return time.perf_counter() - started, cpu_seconds(backend) - cpu_started


KEYS_DIFFERING = """
select (select count(*) from (select tenant_id, reason, occasion from ours except
        select tenant_id, reason, occasion from due_list_entry) a)
     + (select count(*) from (select tenant_id, reason, occasion from due_list_entry except
        select tenant_id, reason, occasion from ours) b)
"""


async def _baseline(dsn: str) -> dict[str, float]:
    """Set our entries' keys aside and empty the table, then compute and write the same
    lists by hand; the keys written must be ours."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "create temp table ours as select tenant_id, reason, occasion from due_list_entry")
        await connection.execute("truncate due_list_entry")
        computed = await _timed(connection, BASELINE_COMPUTE)
        written = await _timed(connection, BASELINE_WRITE)
        differing = await connection.fetchval(KEYS_DIFFERING)
    finally:
        await connection.close()
    if differing:
        raise AssertionError(f"due lists differ: {differing} entries not in both")
    return {"baseline_seconds": computed[0] + written[0],
            "baseline_cpu_seconds": computed[1] + written[1],
            "compute_only_seconds": computed[0], "compute_only_cpu_seconds": computed[1]}


def measure(dealers: int, vehicles: int) -> dict[str, float]:
    with postgres_database("due") as database:
        # bulk load and baseline as the server's admin: row-level security is forced even
        # for the table owner
        admin_dsn = with_database(PG_ADMIN_DSN, database.name)
        asyncio.run(_seed(admin_dsn, dealers, vehicles))
        ours = json.loads(run_python(GENERATE.format(now=NOW.isoformat(), concurrency=CONCURRENCY),
                                     database.env()))
        # the baseline runs after ours on the same data: no entry is answered or contacted,
        # so the rules that read earlier entries find the same (none)
        baseline = asyncio.run(_baseline(admin_dsn))
    return {**ours, **baseline}


def main(quick: bool) -> dict[str, object]:
    dealers = 100 if quick else 1000
    small, large = (20_000, 100_000) if quick else (200_000, 2_000_000)
    first = measure(dealers, small)
    second = measure(dealers, large)
    figures = ("seconds", "cpu_seconds", "baseline_seconds", "baseline_cpu_seconds",
               "compute_only_seconds", "compute_only_cpu_seconds")
    return result(
        "due_lists", unit="s", value=second["seconds"], baseline=second["baseline_seconds"],
        target=1.5, target_on="ratio", better="lower",
        size={"dealers": dealers, "vehicles": large, "compared_with_vehicles": small},
        entries=second["entries"],
        # CPU of our process and its backends against the baseline's backend: on a shared
        # machine four busy processes get more of the cores than one
        cpu_ratio=round(second["cpu_seconds"] / second["baseline_cpu_seconds"], 3),
        **{name: round(second[name], 3) for name in figures[1:]},
        **{f"small_{name}": round(first[name], 3) for name in figures},
        growth=round(second["seconds"] / first["seconds"], 2), size_growth=large / small,
    )
