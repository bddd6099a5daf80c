"""Repair orders (a visit) and their lines; declined lines stay as declined work."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import JSONB, UUID, Integer, Numeric, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable

RO_TYPES = frozenset({"maintenance", "repair", "rework", "warranty", "accident", "insurance"})


class RepairOrder(TenantTable, tablename="repair_order"):
    external_id = Varchar(length=64, null=True, default=None)
    vehicle_id = UUID()
    customer_id = UUID()
    advisor_staff_id = UUID(null=True, default=None)
    technician_staff_ids = JSONB(default=[])
    appointment_id = UUID(null=True, default=None)
    ro_type = Varchar(length=16)
    status = Varchar(length=8, default="open")
    opened_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    mileage_km = Integer(null=True, default=None)
    intake = JSONB(default={})
    total_amount = Numeric(digits=(12, 2), default=Decimal("0"))
    created_at = Timestamptz(default=TimestamptzNow())


class RepairOrderLine(TenantTable, tablename="repair_order_line"):
    repair_order_id = UUID()
    vehicle_id = UUID()
    line_no = Integer(null=True, default=None)  # the DMS's line number: an import's upsert key
    operation_code = Varchar(length=32)
    description = Varchar(length=200, default="")
    amount = Numeric(digits=(12, 2), default=Decimal("0"))
    status = Varchar(length=12, default="done")  # "done" | "declined"
    followed_up_at = Timestamptz(null=True, default=None)
