"""Tenant keys, composite foreign keys, row-level security and search indexes for the
customer base."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T12:08:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "customer base tenant rules"

# Prefix searches (name, phone suffix, plate, VIN) on PostgreSQL need pattern operator classes.
POSTGRES_PATTERN_INDEXES = [
    "create index customer_name_pattern_ix on customer (tenant_id, name varchar_pattern_ops)",
    "create index customer_phone_reversed_pattern_ix on customer "
    "(tenant_id, phone_reversed varchar_pattern_ops)",
    "create index vehicle_plate_pattern_ix on vehicle (tenant_id, plate varchar_pattern_ops)",
    "create index vehicle_vin_pattern_ix on vehicle (tenant_id, vin varchar_pattern_ops)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def tenant_rules() -> None:
        await apply_tenant_rules("staff", unique=[("user_id",), ("external_id",)],
                                 indexes=[("kind",)])
        await apply_tenant_rules(
            "customer",
            references={"referred_by_customer_id": "customer", "advisor_staff_id": "staff",
                        "sales_staff_id": "staff", "insurance_staff_id": "staff"},
            unique=[("external_id",)],
            indexes=[("name",), ("phone_reversed",), ("phone_e164",), ("advisor_staff_id",),
                     ("sales_staff_id",), ("insurance_staff_id",), ("referred_by_customer_id",)],
        )
        await apply_tenant_rules("customer_consent", references={"customer_id": "customer"},
                                 unique=[("customer_id", "purpose", "channel")])
        await apply_tenant_rules(
            "vehicle", references={"customer_id": "customer"},
            unique=[("external_id",), ("vin",)],
            indexes=[("customer_id",), ("plate",), ("next_maintenance_date",),
                     ("insurance_expiry",), ("warranty_end",)],
        )
        await apply_tenant_rules(
            "repair_order",
            references={"vehicle_id": "vehicle", "customer_id": "customer",
                        "advisor_staff_id": "staff"},
            unique=[("external_id",)],
            indexes=[("customer_id", "opened_at"), ("vehicle_id", "opened_at"), ("status",)],
        )
        await apply_tenant_rules(
            "odometer_reading",
            references={"vehicle_id": "vehicle", "repair_order_id": "repair_order"},
            indexes=[("vehicle_id", "read_on")],
        )
        await apply_tenant_rules(
            "repair_order_line",
            references={"repair_order_id": "repair_order", "vehicle_id": "vehicle"},
            indexes=[("repair_order_id",), ("vehicle_id", "status")],
        )
        await apply_tenant_rules("import_job", indexes=[("created_at",)])
        await apply_tenant_rules("import_row_error", references={"import_id": "import_job"},
                                 indexes=[("import_id", "row_number")])
        if engine().engine_type == "postgres":
            for statement in POSTGRES_PATTERN_INDEXES:
                await engine().run_ddl(statement)

    manager.add_raw(tenant_rules)
    return manager
