"""The booking throughput measurement, in its own interpreter on the benchmark database:
50 concurrent clients book distinct free slots through the booking service, then the same
number of bare appointment-row inserts go through the same driver (asyncpg) and pool size.
Both pools are connected and warmed by one untimed operation per connection first."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from bench._appointments_setup import build
from dealerhub.platform import db
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.config import get_settings

CLIENTS = 50
STARTS = ["08:00", "09:15", "10:30", "11:45", "13:00", "14:15", "15:30", "16:45"]
# This process's CPU time per phase, and that of the benchmark database's PostgreSQL
# backends: figures the load other work puts on the machine distorts far less than
# throughput.
CPU_SECONDS: list[float] = []
SERVER_CPU_SECONDS: list[float | None] = []
TECHS_PER_START = 24  # fewer than the 26 general bays, so every target is really free

INSERT = """
insert into appointment (id, tenant_id, customer_id, vehicle_id, technician_id, starts_at,
                         ends_at, status, channel, job_codes, intake)
values ($1, $2, $3, $4, $5, $6, $7, 'booked', 'api', '["DIAG"]', '{}')
"""


def targets(built: dict, count: int) -> list[tuple[str, datetime, str]]:
    zone = ZoneInfo("Asia/Shanghai")
    day = date.fromisoformat(built["first_day"]) + timedelta(days=built["days"])
    found: list[tuple[str, datetime, str]] = []
    vehicles, techs = built["vehicle_ids"], built["technician_ids"]
    while len(found) < count:
        for start in STARTS:
            moment = datetime.combine(day, datetime.strptime(start, "%H:%M").time(), zone)
            for tech in techs[:TECHS_PER_START]:
                found.append((vehicles[len(found) % len(vehicles)], moment, tech))
        day += timedelta(days=1)
    return found[:count]


async def server_cpu(probe: asyncpg.Connection) -> float | None:
    """CPU seconds so far of the benchmark database's backends (PostgreSQL runs on this
    machine); None where /proc does not show them."""
    rows = await probe.fetch("select pid from pg_stat_activity where datname = "
                             "current_database() and backend_type = 'client backend'")
    return _cpu_seconds([row["pid"] for row in rows])


def _cpu_seconds(pids: list[int]) -> float | None:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def run_clients(work: list, call, warm: list) -> tuple[float, dict[str, int]]:
    """`work` through CLIENTS concurrent clients, timed, after one untimed round of `warm`
    (one item per connection of the pool): a new PostgreSQL backend first loads the
    catalog entries of every table and index a statement touches and prepares each
    statement, which is not the steady state either rate is meant to show."""
    await asyncio.gather(*(call(item) for item in warm))
    queue: asyncio.Queue = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    failures: dict[str, int] = {}

    async def client() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            try:
                await call(item)
            except Exception as error:
                name = f"{type(error).__name__}: {str(error)[:80]}"
                failures[name] = failures.get(name, 0) + 1

    probe = await asyncpg.connect(os.environ["BARE_DSN"])
    server = await server_cpu(probe)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    CPU_SECONDS.append(time.process_time() - cpu)
    elapsed = time.perf_counter() - started
    server_after = await server_cpu(probe)
    await probe.close()
    SERVER_CPU_SECONDS.append(None if server is None or server_after is None
                              else server_after - server)
    return elapsed, failures


async def connect_all(pool: asyncpg.Pool) -> None:
    """Open every connection of the booking pool before the clock starts, as the bare
    insert's pool (min_size = CLIENTS) is: connecting is not part of either rate."""
    held = [await pool.acquire() for _ in range(CLIENTS)]
    for connection in held:
        await pool.release(connection)


async def main(count: int, days: int) -> None:
    await db.start(get_settings())
    built = await build(days, 500)
    tenant_id = uuid.UUID(built["tenant_id"])
    work = targets(built, CLIENTS + count)
    warm, work = work[:CLIENTS], work[CLIENTS:]
    await connect_all(db.engine().pool)

    async def book(item: tuple[str, datetime, str]) -> None:
        vehicle, moment, tech = item
        await service.book(tenant_id, AppointmentCreate(
            vehicle_id=uuid.UUID(vehicle), starts_at=moment, job_codes=["DIAG"],
            technician_id=uuid.UUID(tech)), channel="api", actor="bench")

    booking_seconds, booking_failures = await run_clients(work, book, warm)
    await db.stop(get_settings())

    pool = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=CLIENTS,
                                     max_size=CLIENTS)
    customer = await _customer_of(pool, tenant_id, built["vehicle_ids"][0])

    async def insert(item: tuple[str, datetime, str]) -> None:
        vehicle, moment, tech = item
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute("select set_config('app.tenant_id', $1, true)",
                                     str(tenant_id))
            await connection.execute(INSERT, uuid.uuid4(), tenant_id, customer,
                                     uuid.UUID(vehicle), uuid.UUID(tech), moment,
                                     moment + timedelta(hours=1))

    bare_seconds, bare_failures = await run_clients(work, insert, warm)
    await pool.close()
    print(json.dumps({"bookings": count, "booking_seconds": booking_seconds,
                      "booking_failures": booking_failures, "bare_seconds": bare_seconds,
                      "bare_failures": bare_failures, "existing": built["appointments"],
                      "booking_cpu_seconds": CPU_SECONDS[0], "bare_cpu_seconds": CPU_SECONDS[1],
                      "booking_server_cpu_seconds": SERVER_CPU_SECONDS[0],
                      "bare_server_cpu_seconds": SERVER_CPU_SECONDS[1]}))


async def _customer_of(pool: asyncpg.Pool, tenant_id: uuid.UUID, vehicle: str) -> uuid.UUID:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("select set_config('app.tenant_id', $1, true)", str(tenant_id))
        return await connection.fetchval("select customer_id from vehicle where id = $1",
                                         uuid.UUID(vehicle))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
