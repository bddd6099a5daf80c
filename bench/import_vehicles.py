"""DMS vehicle import (CSV, PostgreSQL) in rows/s and peak memory vs COPY of the same rows."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bench.common import PG_ADMIN_DSN, postgres_database, result, run_python

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
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.tenants.imports.service import create_import, import_errors, run_import

def chunks(path):
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk

async def main():
    await db.start(get_settings())
    tenant_id = uuid.UUID("{tenant_id}")
    started = time.perf_counter()
    job = await create_import(tenant_id, "vehicles", "vehicles.csv", chunks("{csv}"), None)
    job = await run_import(tenant_id, job.id)
    elapsed = time.perf_counter() - started
    errors = [(e.row_number, e.field, e.reason) for e in await import_errors(tenant_id, job.id, 5)]
    await db.stop(get_settings())
    print(json.dumps({{"seconds": elapsed, "status": job.status, "applied": job.applied_rows,
                      "refused": job.error_rows, "errors": errors,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))

asyncio.run(main())
"""


async def copy_rows(dsn: str, path: str) -> float:
    """The baseline: COPY of the same rows into the same table (as a superuser, since COPY
    FROM is refused on tables with row-level security). Then ANALYZE, as autovacuum would
    have on a live database: freshly loaded tables without statistics make the planner
    choose nested loops for the import's lookups."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.copy_to_table("vehicle", source=path, columns=COPY_COLUMNS,
                                       format="csv")
        elapsed = time.perf_counter() - started
        await connection.execute("analyze")
        return elapsed
    finally:
        await connection.close()


def main(quick: bool) -> dict[str, object]:
    rows = 20_000 if quick else 1_000_000
    from dealerhub.platform.pg_admin import with_database

    with postgres_database("import") as database:
        env = database.env()
        folder = Path(database.var_dir)
        setup = json.loads(run_python(SETUP.format(rows=rows, folder=folder), env))
        copy_seconds = asyncio.run(copy_rows(with_database(PG_ADMIN_DSN, database.name),
                                             setup["copy"]))
        ours = json.loads(run_python(IMPORT.format(**setup), env))
    if ours["status"] != "done" or ours["applied"] != rows:
        raise SystemExit(f"the import did not apply every row: {ours}")
    rate, baseline = rows / ours["seconds"], rows / copy_seconds
    print(f"import: {rate:,.0f} rows/s ({ours['seconds']:.1f} s), peak {ours['peak_mb']:.0f} MB")
    print(f"COPY  : {baseline:,.0f} rows/s ({copy_seconds:.1f} s)")
    outcome = result("import_vehicles", unit="rows/s", value=rate, baseline=baseline,
                     target=0.25, target_on="ratio", better="higher",
                     size={"rows": rows, "customers": rows // 4},
                     peak_memory_mb=round(ours["peak_mb"], 1),
                     memory_limit_mb=MEMORY_LIMIT_MB)
    outcome["passed"] = outcome["passed"] and ours["peak_mb"] < MEMORY_LIMIT_MB
    return outcome
