"""`customer_search_page`: a page of the customer search in a single statement.

Like `tenant_row`, the function sets the tenant for its own implicit transaction and then
runs the search the service built (`customers/service.py`), so row-level security filters
it exactly as inside `tenant_scope`, with one round trip instead of BEGIN+setting / SELECT /
COMMIT: on a loaded machine each round trip is two more waits for a CPU. It runs as the
caller (no SECURITY DEFINER); the statement is planned with the call's values, as a
search's selectivity needs.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T18:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customer_search_page function"

CUSTOMER_SEARCH_PAGE = """
create function customer_search_page(_tenant uuid, _sql text, _low text, _high text,
                                     _limit integer, _offset integer)
returns table (id uuid, name varchar, phone_e164 varchar, category varchar,
               after_sales_loyal boolean, last_visit_at timestamptz, erased_at timestamptz,
               created_at timestamptz, spend_12m numeric, total bigint, plate varchar)
language plpgsql
as $$
begin
  perform set_config('app.tenant_id', _tenant::text, true);
  return query execute _sql using _tenant, _low, _high, _limit, _offset;
end
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def create_function() -> None:
        if engine().engine_type == "postgres":
            await engine().run_ddl(CUSTOMER_SEARCH_PAGE)

    manager.add_raw(create_function)
    return manager
