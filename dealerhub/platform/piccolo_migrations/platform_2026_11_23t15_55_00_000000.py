"""`tenant_row`: one dealer's row by id in a single statement (the hottest read).

The function sets the tenant for its own implicit transaction and then runs the read, so
row-level security filters it exactly as inside `tenant_scope`, with one round trip instead
of BEGIN+setting / SELECT / COMMIT. It runs as the caller (no SECURITY DEFINER) and reads
only the table named by the row type it is given.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T15:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant_row function"

TENANT_ROW = """
create function tenant_row(_tenant uuid, _row anyelement, _id uuid)
returns setof anyelement
language plpgsql
as $$
begin
  perform set_config('app.tenant_id', _tenant::text, true);
  return query execute format('select * from %s where tenant_id = $1 and id = $2',
                              pg_typeof(_row))
    using _tenant, _id;
end
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def create_function() -> None:
        if engine().engine_type == "postgres":
            await engine().run_ddl(TENANT_ROW)

    manager.add_raw(create_function)
    return manager
