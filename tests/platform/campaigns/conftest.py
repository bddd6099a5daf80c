"""Builders for campaign tests: a dealer in a given time zone, vehicles with the dates the
due-list rules read, and "now" as an instant of the dealer's local day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.vehicles.tables import Vehicle
from tests.tenants.factories import new_customer, new_vehicle


def local_now(day: date, zone: str, hour: int = 10) -> datetime:
    """`hour` o'clock on the dealer's local `day`, as a UTC instant."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def vehicle_with(tenant_id: uuid.UUID, customer_fields: dict | None = None,
                       **dates: object):
    """A customer and a vehicle; `dates` may set any vehicle column, derived ones included."""
    customer = await new_customer(tenant_id, **(customer_fields or {}))
    create = {k: v for k, v in dates.items()
              if k in ("purchase_date", "warranty_end", "insurance_expiry", "model_code")}
    create.setdefault("purchase_date", None)
    vehicle = await new_vehicle(tenant_id, customer.id, **create)
    derived = {getattr(Vehicle, k): v for k, v in dates.items() if k not in create}
    if derived:
        async with tenant_scope(tenant_id):
            await Vehicle.update_in_tenant(derived).where(Vehicle.id == vehicle.id)
    return customer, vehicle
