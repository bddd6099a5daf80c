"""Due-list requests and responses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from dealerhub.platform.web.api import StrictStruct


class OutcomeWrite(StrictStruct):
    outcome: str
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class DueListEntryRead(msgspec.Struct):
    id: uuid.UUID
    reason: str
    customer_id: uuid.UUID
    vehicle_id: uuid.UUID | None
    repair_order_id: uuid.UUID | None
    target_on: date | None
    due_on: date
    status: str
    contacted_at: datetime | None
    answered_at: datetime | None
    outcome_reason: str


class DueListPageRead(msgspec.Struct):
    day: date
    items: list[DueListEntryRead]
    total: int
    counts: dict[str, int]


def entry_read(row: object) -> DueListEntryRead:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return DueListEntryRead(**{name: get(name) for name in DueListEntryRead.__struct_fields__})
