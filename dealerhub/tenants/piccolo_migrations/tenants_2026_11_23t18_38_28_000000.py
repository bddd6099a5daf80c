"""A DMS line is upserted by (repair order, line number): re-importing an export changes
nothing, a corrected line replaces the old one.

Separate from the column's migration because Piccolo runs raw steps before added columns.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T18:38:28:000000"
VERSION = "1.38.0"
DESCRIPTION = "repair order line number key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def line_key() -> None:
        await engine().run_ddl(
            "create unique index repair_order_line_no_uq "
            "on repair_order_line (tenant_id, repair_order_id, line_no)")

    manager.add_raw(line_key)
    return manager
