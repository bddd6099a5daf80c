"""Small builders for the customer base in tests (valid VINs, phones, visits)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from dealerhub.tenants.customers.schemas import CustomerCreate
from dealerhub.tenants.customers.service import create_customer
from dealerhub.tenants.fields import vin_check_digit
from dealerhub.tenants.repair_orders.schemas import RepairOrderLineWrite, RepairOrderOpen
from dealerhub.tenants.repair_orders.service import close_repair_order, open_repair_order
from dealerhub.tenants.vehicles.schemas import VehicleCreate, VehicleRead
from dealerhub.tenants.vehicles.service import create_vehicle

_serial = itertools.count(100000)


def make_vin(serial: int | None = None, wmi: str = "LVS") -> str:
    """A valid VIN: WMI, descriptor, check digit, year, plant, 6-digit serial."""
    serial = next(_serial) if serial is None else serial
    draft = f"{wmi}HFAB50PA{serial % 1_000_000:06d}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def make_phone(n: int | None = None) -> str:
    return f"+86138{(n or next(_serial)) % 100_000_000:08d}"


async def new_customer(tenant_id: uuid.UUID, **fields: object):
    fields.setdefault("name", "张伟")
    fields.setdefault("phone", make_phone())
    return await create_customer(tenant_id, CustomerCreate(**fields))  # type: ignore[arg-type]


async def new_vehicle(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                      **fields: object) -> VehicleRead:
    fields.setdefault("vin", make_vin())
    fields.setdefault("purchase_date", date(2024, 1, 10))
    return await create_vehicle(tenant_id, VehicleCreate(customer_id=customer_id, **fields))  # type: ignore[arg-type]


async def visit(tenant_id: uuid.UUID, vehicle: VehicleRead, at: datetime, *,
                amount: str = "500", ro_type: str = "maintenance", mileage_km: int | None = None,
                declined: list[tuple[str, str]] | None = None):
    opened = await open_repair_order(tenant_id, RepairOrderOpen(
        vehicle_id=vehicle.id, customer_id=vehicle.customer_id, opened_at=at, ro_type=ro_type,
        mileage_km=mileage_km))
    lines = [RepairOrderLineWrite("OIL", Decimal(amount), "机油保养")]
    lines += [RepairOrderLineWrite(code, Decimal(value), "", declined=True)
              for code, value in declined or []]
    return await close_repair_order(tenant_id, opened.id, at, lines)


def utc(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)
