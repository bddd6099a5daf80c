"""Indexes of the OEM's webhook tables (platform tables: no tenant rules)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T15:20:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "oem webhook indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="channels", description=DESCRIPTION)

    async def indexes() -> None:
        run = engine().run_ddl
        await run("create unique index oem_webhook_delivery_uq "
                  "on oem_webhook_delivery (endpoint_id, event_id)")
        await run("create index oem_webhook_delivery_ix "
                  "on oem_webhook_delivery (endpoint_id, created_at)")
        await run("create index oem_webhook_attempt_ix on oem_webhook_attempt (delivery_id, at)")

    manager.add_raw(indexes)
    return manager
