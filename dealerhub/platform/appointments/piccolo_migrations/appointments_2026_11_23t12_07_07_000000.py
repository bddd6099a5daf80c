"""Tenant keys, composite foreign keys, row-level security and indexes for appointments."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T12:07:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "appointments tenant rules"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="appointments", description=DESCRIPTION)

    async def tenant_rules() -> None:
        await apply_tenant_rules("appointment_settings")
        await engine().run_ddl(
            "create unique index appointment_settings_tenant_uq on appointment_settings (tenant_id)"
        )
        await apply_tenant_rules("appointment_holiday", unique=[("day",)])
        await apply_tenant_rules("appointment_resource", indexes=[("kind",)])
        await apply_tenant_rules("appointment_technician", references={"staff_id": "staff"})
        await apply_tenant_rules("appointment_job", unique=[("code",)])
        await apply_tenant_rules(
            "appointment",
            references={"customer_id": "customer", "vehicle_id": "vehicle",
                        "advisor_staff_id": "staff",
                        "technician_id": "appointment_technician",
                        "bay_id": "appointment_resource",
                        "loaner_id": "appointment_resource",
                        "driver_id": "appointment_resource"},
            indexes=[("starts_at",), ("vehicle_id",), ("customer_id",)],
        )
        await apply_tenant_rules(
            "appointment_hold", references={"appointment_id": "appointment"},
            unique=[("resource_id", "slot_start")], indexes=[("appointment_id",), ("slot_start",)],
        )
        await apply_tenant_rules(
            "appointment_reminder", references={"appointment_id": "appointment"},
            indexes=[("status", "due_at"), ("appointment_id",)],
        )
        await apply_tenant_rules(
            "appointment_task",
            references={"appointment_id": "appointment", "customer_id": "customer"},
            indexes=[("status",)], unique=[("source_event_id",)],
        )
        await apply_tenant_rules(
            "appointment_idempotency", references={"appointment_id": "appointment"},
            unique=[("key",)],
        )

    manager.add_raw(tenant_rules)
    return manager
