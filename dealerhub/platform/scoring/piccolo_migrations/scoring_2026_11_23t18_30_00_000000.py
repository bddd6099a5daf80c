"""An index on the facts' day: rebuilding one period's rollups for every dealer reads only
that period's facts instead of the whole table (50M facts hold 24 months)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scoring facts by day"

STATEMENTS = ("create index metric_fact_day_ix on metric_fact (day)",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="scoring", description=DESCRIPTION)

    async def index() -> None:
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(index)
    return manager
