"""Tenant keys, composite foreign keys, row-level security and indexes for campaigns."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T12:32:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "campaigns tenant rules"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="campaigns", description=DESCRIPTION)

    async def tenant_rules() -> None:
        await apply_tenant_rules(
            "due_list_entry",
            references={"customer_id": "customer", "vehicle_id": "vehicle",
                        "repair_order_id": "repair_order"},
            unique=[("reason", "occasion")],
            indexes=[("status", "due_on"), ("customer_id",), ("vehicle_id",)],
        )
        await apply_tenant_rules("due_list_settings")
        await engine().run_ddl(
            "create unique index due_list_settings_tenant_uq on due_list_settings (tenant_id)")
        await engine().run_ddl(
            "create unique index due_list_run_day_uq on due_list_run (dealer_id, generated_on)")
        await apply_tenant_rules("campaign_segment")
        await apply_tenant_rules("campaign", references={"segment_id": "campaign_segment"},
                                 indexes=[("status",), ("oem_campaign_id",)])
        await apply_tenant_rules(
            "campaign_recipient",
            references={"campaign_id": "campaign", "customer_id": "customer",
                        "vehicle_id": "vehicle"},
            unique=[("campaign_id", "customer_id")],
            indexes=[("status", "next_step_at"), ("customer_id",)],
        )
        await engine().run_ddl(
            "create unique index oem_campaign_result_uq "
            "on oem_campaign_result (oem_campaign_id, dealer_id)")

    manager.add_raw(tenant_rules)
    return manager
