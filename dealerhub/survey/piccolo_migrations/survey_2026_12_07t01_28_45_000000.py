"""Indexes of headquarters' review queue of flagged responses."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine

ID = "2026-12-07T01:28:45:000000"
VERSION = "1.38.0"
DESCRIPTION = "flag review queue indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def indexes() -> None:
        run = engine().run_ddl
        await run("create unique index survey_flag_review_invitation_uq "
                  "on survey_flag_review (tenant_id, invitation_id)")
        await run("create index survey_flag_review_state_ix "
                  "on survey_flag_review (state, answered_at)")
        await run("create index survey_flag_review_region_ix "
                  "on survey_flag_review (region_id, answered_at)")
        await run("create index survey_flag_review_answered_ix "
                  "on survey_flag_review (answered_at)")
        await run("create index survey_flag_decision_review_ix "
                  "on survey_flag_decision (review_id, decided_at)")

    manager.add_raw(indexes)
    return manager
