"""Repair order request/response types and declined work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from dealerhub.platform.web.api import StrictStruct


class RepairOrderOpen(StrictStruct):
    vehicle_id: uuid.UUID
    customer_id: uuid.UUID
    opened_at: datetime
    ro_type: str
    advisor_staff_id: uuid.UUID | None = None
    mileage_km: int | None = None
    intake: dict[str, Any] = msgspec.field(default_factory=dict)
    appointment_id: uuid.UUID | None = None
    external_id: str | None = None
    technician_staff_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class RepairOrderLineWrite(StrictStruct):
    operation_code: str
    amount: Decimal
    description: str = ""
    declined: bool = False


class RepairOrderClose(StrictStruct):
    lines: list[RepairOrderLineWrite]
    closed_at: datetime | None = None


class RepairOrderLineRead(msgspec.Struct):
    id: uuid.UUID
    operation_code: str
    description: str
    amount: Decimal
    status: str


class RepairOrderRead(msgspec.Struct):
    id: uuid.UUID
    external_id: str | None
    vehicle_id: uuid.UUID
    customer_id: uuid.UUID
    advisor_staff_id: uuid.UUID | None
    technician_staff_ids: list[uuid.UUID]
    appointment_id: uuid.UUID | None
    ro_type: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    mileage_km: int | None
    intake: dict[str, Any]
    total_amount: Decimal
    lines: list[RepairOrderLineRead] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class DeclinedWork:
    """A line the customer declined, kept with its estimate for a later follow-up."""

    line_id: uuid.UUID
    repair_order_id: uuid.UUID
    vehicle_id: uuid.UUID
    operation_code: str
    description: str
    estimate: Decimal
    declined_at: datetime
    followed_up_at: datetime | None = field(default=None)
