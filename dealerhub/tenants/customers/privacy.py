"""PIPL rights: everything about one customer as a JSON document, and erasure.

Erasure removes the person (PII cleared, identifiers replaced by irreversible pseudonyms)
but keeps the aggregates (visits, amounts, vehicle model and age) that metrics need. Both
leave an audit record, and erasure emits `customer.erased` so other components purge
what they hold about the customer.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from dealerhub.platform import events
from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.customers.tables import Customer, CustomerConsent
from dealerhub.tenants.customers.timeline import timeline
from dealerhub.tenants.repair_orders.tables import RepairOrder, RepairOrderLine
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle

ERASED_NAME = "已删除客户"
PII_COLUMNS = ("external_id", "phone_e164", "phone_reversed", "email", "wechat_id", "gender",
               "birth_date", "district", "occupation", "home_latitude", "home_longitude")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _audit(tenant_id: uuid.UUID, action: str, customer_id: uuid.UUID,
                 actor_id: uuid.UUID | None, actor: str) -> None:
    await AuditLog.insert(AuditLog(user_id=actor_id, actor=actor or "system", tenant_id=tenant_id,
                                   action=action, target=f"customer:{customer_id}",
                                   status_code=200))


async def export_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID, *,
                          actor_id: uuid.UUID | None = None,
                          actor: str = "") -> dict[str, Any] | None:
    """Everything stored about the customer, JSON-ready; audited."""
    async with tenant_scope(tenant_id):
        customers = await Customer.select_in_tenant().where(Customer.id == customer_id)
        if not customers:
            return None
        consents = await CustomerConsent.select_in_tenant().where(
            CustomerConsent.customer_id == customer_id)
        vehicles = await Vehicle.select_in_tenant().where(Vehicle.customer_id == customer_id)
        vehicle_ids = [v["id"] for v in vehicles]
        readings = await OdometerReading.select_in_tenant().where(
            OdometerReading.vehicle_id.is_in(vehicle_ids)) if vehicle_ids else []
        orders = await RepairOrder.select_in_tenant().where(
            RepairOrder.customer_id == customer_id)
        lines = await RepairOrderLine.select_in_tenant().where(
            RepairOrderLine.repair_order_id.is_in([o["id"] for o in orders])) if orders else []
        entries = await timeline(tenant_id, customer_id, limit=10_000)
        await _audit(tenant_id, "EXPORT", customer_id, actor_id, actor)
    for vehicle in vehicles:
        vehicle["open_recalls"] = loaded(vehicle["open_recalls"], [])
        vehicle["odometer_readings"] = [r for r in readings if r["vehicle_id"] == vehicle["id"]]
    for order in orders:
        order["intake"] = loaded(order["intake"], {})
        order["technician_staff_ids"] = loaded(order["technician_staff_ids"], [])
        order["lines"] = [line for line in lines if line["repair_order_id"] == order["id"]]
    return _plain({
        "exported_at": datetime.now(UTC), "customer": customers[0], "consents": consents,
        "vehicles": vehicles, "repair_orders": orders,
        "timeline": [asdict(entry) for entry in entries],
    })


def _pseudonym(value: str, length: int) -> str:
    """A one-way replacement: keyed by a random salt that is thrown away."""
    return hashlib.sha256(secrets.token_bytes(16) + value.encode()).hexdigest()[:length].upper()


async def erase_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID, *,
                         actor_id: uuid.UUID | None = None, actor: str = "") -> bool:
    """Remove the person, keep the aggregates; False if there is no such customer."""
    async with tenant_scope(tenant_id):
        row = await Customer.get_in_tenant(customer_id)
        if row is None:
            return False
        now = datetime.now(UTC)
        await Customer.update_in_tenant({
            Customer.name: ERASED_NAME, Customer.erased_at: row.erased_at or now,
            Customer.updated_at: now, Customer.team_set_by_admin: True,
            **{getattr(Customer, column): None for column in PII_COLUMNS},
        }).where(Customer.id == customer_id)
        for vehicle in await Vehicle.select_in_tenant(Vehicle.id, Vehicle.vin).where(
                Vehicle.customer_id == customer_id):
            await Vehicle.update_in_tenant({
                Vehicle.vin: "Z" + _pseudonym(vehicle["vin"], 16), Vehicle.plate: None,
                Vehicle.external_id: None,
            }).where(Vehicle.id == vehicle["id"])
        await RepairOrder.update_in_tenant({RepairOrder.intake: {}}).where(
            RepairOrder.customer_id == customer_id)
        await CustomerConsent.update_in_tenant({
            CustomerConsent.granted: False, CustomerConsent.changed_at: now,
            CustomerConsent.source: "erasure",
        }).where(CustomerConsent.customer_id == customer_id)
        await events.emit("customer.erased", {"customer_id": customer_id})
        await _audit(tenant_id, "ERASE", customer_id, actor_id, actor)
    return True


def export_filename(customer_id: uuid.UUID) -> str:
    return f"customer-{customer_id}.json"


def export_bytes(document: dict[str, Any]) -> bytes:
    return msgspec.json.format(msgspec.json.encode(document), indent=2)
