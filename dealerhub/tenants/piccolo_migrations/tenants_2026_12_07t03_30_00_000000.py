"""`analyze_tables`: fresh planner statistics for the tables a large import is growing.

A DMS import of a new dealer adds hundreds of thousands of rows in one job, far faster than
autovacuum re-analyses them: the statistics still say the dealer has no vehicles, so every
lookup of a batch (`tenant_id = … and vin = any(…)`) is planned as a scan of the dealer's
whole index range, and each batch costs more than the one before (at 200,000 vehicles the
20th batch's lookups took 7× as long as the first's). The import calls this after its 2nd,
4th, 8th… batch. Only the table owner may ANALYZE (PostgreSQL 15), so the function runs as
its owner (SECURITY DEFINER) and analyses nothing but tables of the public schema.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-12-07T03:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "analyze_tables function"

ANALYZE_TABLES = """
create function analyze_tables(_tables text[]) returns void
language plpgsql security definer set search_path = public, pg_temp
as $$
declare
  _table text;
begin
  foreach _table in array _tables loop
    execute format('analyze public.%I', _table);
  end loop;
end
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def create_function() -> None:
        if engine().engine_type == "postgres":
            await engine().run_ddl(ANALYZE_TABLES)

    manager.add_raw(create_function)
    return manager
