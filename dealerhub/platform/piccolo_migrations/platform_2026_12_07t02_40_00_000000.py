"""The index behind scoring's look-up of a survey response's earlier events (a flagged
answer or a review decision moves the response's answers in or out of the figures): the
outbox has no other index by dealer, so each look-up read every event ever written."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform import db

ID = "2026-12-07T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "event outbox survey response index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def index() -> None:
        await db.engine().run_ddl(
            "create index event_outbox_response_ix on event_outbox "
            f"(tenant_id, {db.json_text('payload', 'invitation_id')}) "
            "where event_type in ('survey.answered', 'survey.flag_reviewed')")

    manager.add_raw(index)
    return manager
