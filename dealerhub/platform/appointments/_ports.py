"""What appointments needs from other components, reached only through their `service.py`.

Kept in one place so the rest of the module reads as appointments logic, and so each
dependency on the customer base and the channels is visible at a glance.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

import msgspec


def as_dict(value: Any) -> dict[str, Any]:
    """A plain, JSON-ready dict from another component's struct or dataclass."""
    if isinstance(value, msgspec.Struct):
        raw = msgspec.structs.asdict(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        raw = dataclasses.asdict(value)
    elif isinstance(value, dict):
        raw = dict(value)
    else:
        raw = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return msgspec.to_builtins(raw, builtin_types=(), str_keys=True)


@dataclasses.dataclass(frozen=True)
class VehicleFacts:
    id: uuid.UUID
    customer_id: uuid.UUID
    vin: str
    plate: str
    model_code: str
    purchase_date: date | None
    open_recalls: list[str]


async def vehicle(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> VehicleFacts | None:
    from dealerhub.tenants.vehicles import service as vehicles

    found = await vehicles.get_vehicle(tenant_id, vehicle_id)
    if found is None:
        return None
    return VehicleFacts(
        id=found.id, customer_id=found.customer_id, vin=found.vin or "",
        plate=getattr(found, "plate", "") or "", model_code=getattr(found, "model_code", "") or "",
        purchase_date=getattr(found, "purchase_date", None),
        open_recalls=list(getattr(found, "open_recalls", None) or []),
    )


async def declined_work(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> list[dict[str, Any]]:
    from dealerhub.tenants.repair_orders import service as repair_orders

    return [as_dict(item) for item in await repair_orders.declined_work(tenant_id, vehicle_id)]


async def last_advisor(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> uuid.UUID | None:
    from dealerhub.tenants.repair_orders import service as repair_orders

    return await repair_orders.last_advisor(tenant_id, customer_id)


@dataclasses.dataclass(frozen=True)
class Advisor:
    id: uuid.UUID
    name: str


async def advisors(tenant_id: uuid.UUID) -> list[Advisor]:
    from dealerhub.tenants.staff import service as staff

    rows = await staff.list_staff(tenant_id, kind="service_advisor")
    return [Advisor(row.id, row.name) for row in rows if row.active]


async def open_repair_order(tenant_id: uuid.UUID, *, vehicle_id: uuid.UUID,
                            customer_id: uuid.UUID, advisor_staff_id: uuid.UUID | None,
                            opened_at: datetime, mileage_km: int | None, ro_type: str,
                            intake: dict[str, Any], appointment_id: uuid.UUID) -> uuid.UUID:
    from dealerhub.tenants.repair_orders import service as repair_orders
    from dealerhub.tenants.repair_orders.schemas import RepairOrderOpen

    opened = await repair_orders.open_repair_order(tenant_id, RepairOrderOpen(
        vehicle_id=vehicle_id, customer_id=customer_id, advisor_staff_id=advisor_staff_id,
        opened_at=opened_at, mileage_km=mileage_km, ro_type=ro_type, intake=intake,
        appointment_id=appointment_id,
    ))
    return opened.id


async def enqueue_message(tenant_id: uuid.UUID, customer_id: uuid.UUID, template_key: str,
                          context: dict[str, Any], appointment_id: uuid.UUID,
                          idempotency_key: str) -> str:
    from dealerhub.channels import service as channels

    queued = await channels.enqueue_message(
        tenant_id, customer_id, "service", template_key, context,
        related={"appointment_id": str(appointment_id)}, idempotency_key=idempotency_key,
    )
    return str(getattr(queued, "id", queued) or "")


def register_templates(templates: dict[str, dict[str, tuple[str, str]]]) -> None:
    from dealerhub.channels import service as channels

    for key, texts in templates.items():
        channels.register_template(key, "service", {
            locale: channels.TemplateText(subject, body)
            for locale, (subject, body) in texts.items()
        })


def register_timeline(source: Any) -> None:
    from dealerhub.tenants.customers import timeline

    timeline.register_timeline_source("appointments", source)
