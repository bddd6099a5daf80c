"""Tenant keys, row-level security, indexes and the fixed roles for the core tables."""

import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T11:53:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core tenant rules"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def tenant_rules_and_indexes() -> None:
        await apply_tenant_rules("api_key", unique=[("prefix",)])
        run = engine().run_ddl
        await run(
            "create unique index event_consumption_uq on event_consumption (consumer, event_id)"
        )
        await run(
            "create index event_outbox_unpublished_ix on event_outbox (occurred_at) "
            "where published_at is null"
        )
        await run("create index audit_log_tenant_at_ix on audit_log (tenant_id, at)")
        for key, scope, name_zh, name_en in [
            ("oem_admin", "oem", "主机厂管理员", "OEM admin"),
            ("oem_analyst", "oem", "主机厂分析员", "OEM analyst"),
            ("dealer_admin", "dealer", "经销商管理员", "Dealer admin"),
            ("service_advisor", "dealer", "服务顾问", "Service advisor"),
            ("cs_agent", "dealer", "客服专员", "CS agent"),
            ("integration", "dealer", "系统集成", "Integration"),
        ]:
            await run(
                "insert into role (id, created_at, key, scope, name_zh, name_en) values "
                f"('{uuid.uuid4()}', current_timestamp, '{key}', '{scope}', "
                f"'{name_zh}', '{name_en}')"
            )

    manager.add_raw(tenant_rules_and_indexes)
    return manager
