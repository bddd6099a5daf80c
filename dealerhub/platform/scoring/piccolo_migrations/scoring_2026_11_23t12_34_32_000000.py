"""Unique keys and indexes of the scoring aggregates (dealer first, as tenant keys are)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-11-23T12:34:32:000000"
VERSION = "1.38.0"
DESCRIPTION = "scoring keys"

STATEMENTS = (
    "create unique index metric_fact_key_uq on metric_fact "
    "(dealer_id, metric_key, metric_version, day, staff_id)",
    "create unique index metric_rollup_key_uq on metric_rollup "
    "(dealer_id, metric_key, metric_version, grain, period_start, staff_id)",
    "create index metric_rollup_period_ix on metric_rollup "
    "(grain, period_start, metric_key, metric_version)",
    "create unique index benchmark_distribution_key_uq on benchmark_distribution "
    "(metric_key, metric_version, grain, period_start, group_key)",
    "create unique index scoring_alert_key_uq on scoring_alert (dealer_id, metric_key, week_start)",
    "create index scoring_alert_region_ix on scoring_alert (region_id, week_start)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="scoring", description=DESCRIPTION)

    async def keys() -> None:
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(keys)
    return manager
