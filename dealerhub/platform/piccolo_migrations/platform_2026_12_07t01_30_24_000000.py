"""The index behind "who saw this customer" for list reads (the customer's trail, newest
first). Separate from the table's migration because Piccolo runs raw steps before tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-12-07T01:30:24:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit customer shown index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def index() -> None:
        await engine().run_ddl(
            "create index audit_customer_shown_ix on audit_customer_shown "
            "(tenant_id, customer_id, created_at)")

    manager.add_raw(index)
    return manager
