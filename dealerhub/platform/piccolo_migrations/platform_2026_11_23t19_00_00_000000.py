"""The OEM regional manager: headquarters console access, and the person a region's
escalated complaints and scoring anomalies are sent to."""

import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "OEM regional manager role"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def role() -> None:
        await engine().run_ddl(
            "insert into role (id, created_at, key, scope, name_zh, name_en) values "
            f"('{uuid.uuid4()}', current_timestamp, 'oem_regional_manager', 'oem', '区域经理', "
            "'Regional manager')"
        )

    manager.add_raw(role)
    return manager
