"""DMS vehicle import (CSV, PostgreSQL) in rows/s and peak memory vs COPY of the same rows."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from bench.common import PG_ADMIN_DSN, cpu_or_zero, postgres_database, result, run_python

COPY_COLUMNS = ["tenant_id", "id", "external_id", "customer_id", "vin", "plate", "model_code",
                "model_year", "purchase_date", "insurance_expiry", "open_recalls"]
MEMORY_LIMIT_MB = 300
SETUP = """
import runpy, sys
sys.argv = ["setup", "import", "{rows}", "{folder}"]
runpy.run_module("bench._customer_base", run_name="__main__")
"""
IMPORT = """
import asyncio, json, resource, time, uuid
from bench.common import cpu_or_zero
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.tenants.imports.service import create_import, import_errors, run_import

def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def chunks(path):
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk

async def main():
    await db.start(get_settings())
    tenant_id = uuid.UUID("{tenant_id}")
    started, client = time.perf_counter(), own_cpu()
    job = await create_import(tenant_id, "vehicles", "vehicles.csv", chunks("{csv}"), None)
    job = await run_import(tenant_id, job.id)
    elapsed, client = time.perf_counter() - started, own_cpu() - client
    # the pool's backends (since they connected: a few milliseconds more than the import)
    server = sum(cpu_or_zero(row["pid"]) for row in await db.fetch(
        "select pid from pg_stat_activity where datname = current_database() "
        "and usename = current_user"))
    errors = [(e.row_number, e.field, e.reason) for e in await import_errors(tenant_id, job.id, 5)]
    await db.stop(get_settings())
    print(json.dumps({{"seconds": elapsed, "status": job.status, "applied": job.applied_rows,
                      "refused": job.error_rows, "errors": errors,
                      "client_cpu": client, "server_cpu": server,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))

asyncio.run(main())
"""


async def copy_rows(dsn: str, path: str) -> tuple[float, float]:
    """The baseline: COPY of the same rows into the same table (as a superuser, since COPY
    FROM is refused on tables with row-level security). Then ANALYZE, as autovacuum would
    have on a live database: freshly loaded tables without statistics make the planner
    choose nested loops for the import's lookups. Returns the seconds and the CPU seconds
    (the backend's and this process's)."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        backend = connection.get_server_pid()
        started, cpu = time.perf_counter(), cpu_or_zero(backend) + cpu_or_zero(os.getpid())
        await connection.copy_to_table("vehicle", source=path, columns=COPY_COLUMNS,
                                       format="csv")
        elapsed = time.perf_counter() - started
        cpu = cpu_or_zero(backend) + cpu_or_zero(os.getpid()) - cpu
        await connection.execute("analyze")
        return elapsed, cpu
    finally:
        await connection.close()


def main(quick: bool) -> dict[str, object]:
    rows = 20_000 if quick else 1_000_000
    from dealerhub.platform.pg_admin import with_database

    with postgres_database("import") as database:
        env = database.env()
        folder = Path(database.var_dir)
        setup = json.loads(run_python(SETUP.format(rows=rows, folder=folder), env))
        copy_seconds, copy_cpu = asyncio.run(copy_rows(
            with_database(PG_ADMIN_DSN, database.name), setup["copy"]))
        ours = json.loads(run_python(IMPORT.format(**setup), env))
    if ours["status"] != "done" or ours["applied"] != rows:
        raise SystemExit(f"the import did not apply every row: {ours}")
    rate, baseline = rows / ours["seconds"], rows / copy_seconds
    print(f"import: {rate:,.0f} rows/s ({ours['seconds']:.1f} s), peak {ours['peak_mb']:.0f} MB")
    print(f"COPY  : {baseline:,.0f} rows/s ({copy_seconds:.1f} s)")
    ours_cpu = ours["client_cpu"] + ours["server_cpu"]
    client, server = (1e6 * ours[k] / rows for k in ("client_cpu", "server_cpu"))
    print(f"CPU per row: import {client + server:.0f} µs (client {client:.0f}, PostgreSQL "
          f"{server:.0f}), COPY {1e6 * copy_cpu / rows:.0f} µs; CPU ratio "
          f"{copy_cpu / ours_cpu:.2f}")
    outcome = result("import_vehicles", unit="rows/s", value=rate, baseline=baseline,
                     target=0.25, target_on="ratio", better="higher",
                     size={"rows": rows, "customers": rows // 4},
                     peak_memory_mb=round(ours["peak_mb"], 1),
                     cpu_us_per_row=round(1e6 * ours_cpu / rows, 1),
                     baseline_cpu_us_per_row=round(1e6 * copy_cpu / rows, 1),
                     cpu_ratio=round(copy_cpu / ours_cpu, 3),
                     memory_limit_mb=MEMORY_LIMIT_MB)
    outcome["passed"] = outcome["passed"] and ours["peak_mb"] < MEMORY_LIMIT_MB
    return outcome
