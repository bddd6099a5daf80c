"""Half-empty pages for the rollups (PostgreSQL only), so rewriting a period's numbers is a
heap-only update.

A recompute updates every rollup of the period whose sums changed; the numbers are in no
index, so with room on the row's own page PostgreSQL writes the new version beside the old
one and touches none of the three indexes. Full pages sent every update to another page and
into every index: rewriting the 68,500 rollups of one month took 4.3–6.0 s (1.1 M buffer
visits), 2.2 s at fillfactor 70 and 0.35–0.63 s at 50 (load ≈ 7; bench/README.md,
scoring_recompute). Rollups
are small (1.44 M rows for 3,000 dealers × 20 metrics × 24 months), so the doubled table
costs little. Existing pages keep their layout until the table is rewritten."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-12-07T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rollups with room for heap-only updates"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="scoring", description=DESCRIPTION)

    async def fillfactor() -> None:
        if engine().engine_type == "postgres":
            await engine().run_ddl("alter table metric_rollup set (fillfactor = 50)")

    manager.add_raw(fillfactor)
    return manager
