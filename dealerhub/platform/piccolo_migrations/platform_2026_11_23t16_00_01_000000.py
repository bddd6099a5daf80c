"""The access-history index (a customer's trail, newest first) and the dealer auditor role.

Separate from the column's migration because Piccolo runs raw steps before added columns.
"""

import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T16:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit log customer index and auditor role"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def index_and_role() -> None:
        run = engine().run_ddl
        await run(
            "create index audit_log_customer_ix on audit_log (tenant_id, customer_id, at) "
            "where customer_id is not null"
        )
        await run(
            "insert into role (id, created_at, key, scope, name_zh, name_en) values "
            f"('{uuid.uuid4()}', current_timestamp, 'auditor', 'dealer', '审计员', 'Auditor')"
        )

    manager.add_raw(index_and_role)
    return manager
