"""Tenant keys, composite foreign keys, row-level security and indexes for channels."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T12:11:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "channels tenant rules"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="channels", description=DESCRIPTION)

    async def tenant_rules_and_indexes() -> None:
        await apply_tenant_rules("channel_account", unique=[("channel",)])
        await apply_tenant_rules(
            "channel_message",
            references={"customer_id": "customer"},
            indexes=[("customer_id", "created_at"), ("created_at",), ("status", "created_at")],
            unique=[("idempotency_key",)],
        )
        await apply_tenant_rules(
            "channel_message_status",
            references={"message_id": "channel_message"},
            indexes=[("message_id", "at")],
        )
        await apply_tenant_rules("webhook_endpoint")
        await apply_tenant_rules(
            "webhook_delivery",
            references={"endpoint_id": "webhook_endpoint"},
            indexes=[("endpoint_id", "created_at")],
            unique=[("endpoint_id", "event_id")],
        )
        await apply_tenant_rules(
            "webhook_attempt",
            references={"delivery_id": "webhook_delivery", "endpoint_id": "webhook_endpoint"},
            indexes=[("delivery_id", "at"), ("endpoint_id", "at")],
        )
        await apply_tenant_rules("webhook_inbound_source")
        await apply_tenant_rules(
            "webhook_inbound_receipt",
            references={"source_id": "webhook_inbound_source"},
            unique=[("source_id", "webhook_id")],
        )
        run = engine().run_ddl
        await run("create unique index channel_outbox_message_uq on channel_outbox (message_id)")
        await run(
            "create index channel_outbox_due_ix on channel_outbox (due_at) "
            "where dispatched_at is null and done_at is null"
        )
        await run("create index channel_outbox_provider_ix on channel_outbox (provider_id, channel)")
        await run("create index channel_outbox_address_ix on channel_outbox (address_hash, sent_at)")
        await run(
            "create index webhook_queue_due_ix on webhook_queue (due_at) "
            "where dispatched_at is null"
        )

    manager.add_raw(tenant_rules_and_indexes)
    return manager
