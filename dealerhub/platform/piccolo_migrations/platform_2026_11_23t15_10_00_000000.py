"""Tenant policies evaluate the tenant setting once per statement (see `TENANT_POLICY`).

Recreates every existing `<table>_tenant_isolation` policy, whichever component made it;
tables created by later migrations get the new condition from `apply_tenant_rules`.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine, fetch
from dealerhub.platform.tenancy import TENANT_POLICY

ID = "2026-11-23T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant policy setting evaluated once per statement"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def recreate_policies() -> None:
        if engine().engine_type != "postgres":
            return
        policies = await fetch(
            "select tablename, policyname from pg_policies "
            "where schemaname = current_schema() and policyname = tablename || '_tenant_isolation'"
        )
        for row in policies:
            await engine().run_ddl(
                f"alter policy {row['policyname']} on {row['tablename']} "
                f"using ({TENANT_POLICY}) with check ({TENANT_POLICY})"
            )

    manager.add_raw(recreate_policies)
    return manager
