"""What appointments needs from other components, reached only through their service
modules: the customer base (vehicles, declined work, advisors, repair orders), the channels
(reminder messages) and the customer timeline.

Kept in one place so the rest of the module reads as appointments logic and each
dependency is visible at a glance.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec

from dealerhub.channels import service as channels
from dealerhub.tenants.customers import service as customers
from dealerhub.tenants.customers import timeline
from dealerhub.tenants.repair_orders import service as repair_orders
from dealerhub.tenants.repair_orders.schemas import RepairOrderOpen
from dealerhub.tenants.staff import service as staff
from dealerhub.tenants.vehicles import service as vehicles
from dealerhub.tenants.vehicles.schemas import VehicleRead


@dataclasses.dataclass(frozen=True)
class VehicleFacts:
    id: uuid.UUID
    customer_id: uuid.UUID
    vin: str
    plate: str
    model_code: str
    purchase_date: date | None
    open_recalls: list[str]


def _facts(found: VehicleRead) -> VehicleFacts:
    return VehicleFacts(id=found.id, customer_id=found.customer_id, vin=found.vin,
                        plate=found.plate or "", model_code=found.model_code or "",
                        purchase_date=found.purchase_date,
                        open_recalls=list(found.open_recalls))


async def vehicle(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> VehicleFacts | None:
    found = await vehicles.get_vehicle(tenant_id, vehicle_id)
    return None if found is None else _facts(found)


async def customer_vehicles(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> list[VehicleFacts]:
    return [_facts(found)
            for found in await vehicles.list_vehicles_for_customer(tenant_id, customer_id)]


@dataclasses.dataclass(frozen=True)
class CustomerMatches:
    customers: list[dict[str, Any]]
    plates: dict[uuid.UUID, list[str]]


async def find_customers(tenant_id: uuid.UUID, q: str) -> CustomerMatches:
    """Customers by name, phone, plate or VIN, for picking the car on the booking form."""
    found = await customers.search_customers(tenant_id, q, per_page=10)
    return CustomerMatches(found.customers, found.plates)


async def sample_vehicles(tenant_id: uuid.UUID, count: int) -> list[VehicleFacts]:
    """Up to `count` vehicles, one per customer (demo data)."""
    found = await customers.search_customers(tenant_id, "", per_page=count)
    picked = []
    for customer in found.customers:
        owned = await customer_vehicles(tenant_id, customer["id"])
        picked += owned[:1]
    return picked


@dataclasses.dataclass(frozen=True)
class Advisor:
    id: uuid.UUID
    name: str


@dataclasses.dataclass(frozen=True)
class BookingContext:
    vehicle: VehicleFacts
    pickup_point: tuple[float, float] | None
    declined_work: list[dict[str, Any]]  # JSON-ready: stored on the appointment as offered
    last_advisor: uuid.UUID | None
    advisors: list[Advisor]


def booking_context_sql() -> str:
    """The customer-base read as SQL (`{}` placeholders: tenant, vehicle), for a booking
    to send in the same statement as its own reads; decode the row with `booking_context_of`."""
    return repair_orders.booking_facts_sql()


def booking_context_of(row: Mapping[str, Any], vehicle_id: uuid.UUID) -> BookingContext | None:
    return _context(repair_orders.booking_facts_of(row, vehicle_id), vehicle_id)


async def booking_context(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> BookingContext | None:
    """Everything a slot search needs from the customer base, in one read."""
    return _context(await repair_orders.booking_facts(tenant_id, vehicle_id), vehicle_id)


def _context(found: repair_orders.BookingFacts | None,
             vehicle_id: uuid.UUID) -> BookingContext | None:
    if found is None:
        return None
    facts = found.vehicle
    return BookingContext(
        VehicleFacts(id=vehicle_id, customer_id=facts["customer_id"], vin=facts["vin"],
                     plate=facts["plate"] or "", model_code=facts["model_code"] or "",
                     purchase_date=facts["purchase_date"], open_recalls=facts["open_recalls"]),
        found.pickup_point,
        [msgspec.to_builtins(dataclasses.asdict(item)) for item in found.declined_work],
        found.last_advisor, [Advisor(*advisor) for advisor in found.advisors])


async def advisors(tenant_id: uuid.UUID) -> list[Advisor]:
    rows = await staff.list_staff(tenant_id, kind="service_advisor")
    return [Advisor(row.id, row.name) for row in rows if row.active]


async def open_repair_order(tenant_id: uuid.UUID, *, vehicle_id: uuid.UUID,
                            customer_id: uuid.UUID, advisor_staff_id: uuid.UUID | None,
                            opened_at: datetime, mileage_km: int | None, ro_type: str,
                            intake: dict[str, Any], appointment_id: uuid.UUID) -> uuid.UUID:
    opened = await repair_orders.open_repair_order(tenant_id, RepairOrderOpen(
        vehicle_id=vehicle_id, customer_id=customer_id, advisor_staff_id=advisor_staff_id,
        opened_at=opened_at, mileage_km=mileage_km, ro_type=ro_type, intake=intake,
        appointment_id=appointment_id,
    ))
    return opened.id


async def enqueue_message(tenant_id: uuid.UUID, customer_id: uuid.UUID, template_key: str,
                          context: dict[str, Any], *, related: dict[str, str],
                          idempotency_key: str) -> str:
    """Queue a service message; the channels pick the customer's preferred channel."""
    queued = await channels.enqueue_message(
        tenant_id, customer_id, "service", template_key, context,
        related=related, idempotency_key=idempotency_key,
    )
    return str(queued.id)


def register_templates(templates: dict[str, dict[str, tuple[str, str]]]) -> None:
    for key, texts in templates.items():
        channels.register_template(key, "service", {
            locale: channels.TemplateText(subject, body)
            for locale, (subject, body) in texts.items()
        })


TimelineEntry = timeline.TimelineEntry


def register_timeline(source: Any) -> None:
    timeline.register_timeline_source("appointments", source)
