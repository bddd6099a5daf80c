"""Campaign requests and responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from dealerhub.platform.campaigns.segments.schemas import SegmentDefinition
from dealerhub.platform.web.api import StrictStruct

Days = Annotated[int, msgspec.Meta(ge=1, le=90)]


class MessageText(StrictStruct):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    subject: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class CampaignCreate(StrictStruct):
    """A dealer campaign: whom (a saved segment or today's due list for one reason), what
    (a text per language and optionally per customer type: "zh-CN", "en:value"), and when."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    texts: dict[str, MessageText]
    starts_at: datetime
    segment_id: uuid.UUID | None = None
    due_reason: str | None = None
    purpose: str = "marketing"
    second_contact_after_days: Days | None = 3
    nudge_after_days: Days | None = 3
    hold_out_percent: Annotated[int, msgspec.Meta(ge=0, le=50)] = 0
    booking_window_days: Days = 14
    throttle_to_capacity: bool = False
    minutes_per_visit: Annotated[int, msgspec.Meta(ge=10, le=480)] = 60


class CampaignRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    purpose: str
    segment_id: uuid.UUID | None
    due_reason: str | None
    starts_at: datetime
    status: str
    recipients: int
    hold_out_percent: int
    second_contact_after_days: int | None
    nudge_after_days: int | None
    booking_window_days: int
    oem_campaign_id: uuid.UUID | None
    throttle_to_capacity: bool
    minutes_per_visit: int


class ResponseWrite(StrictStruct):
    response: str
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RecipientRead(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    hold_out: bool
    step: int
    status: str
    variant: str
    contacted_at: datetime | None
    replied_at: datetime | None
    booked_at: datetime | None
    visited_at: datetime | None
    revenue: Decimal
    response: str
    response_reason: str


class GroupResult(msgspec.Struct):
    recipients: int = 0
    contacted: int = 0
    delivered: int = 0
    replied: int = 0
    booked: int = 0
    visited: int = 0
    revenue: Decimal = Decimal("0")

    @property
    def booking_rate(self) -> float:
        return self.booked / self.recipients if self.recipients else 0.0


class CampaignResults(msgspec.Struct):
    treatment: GroupResult
    hold_out: GroupResult
    by_variant: dict[str, GroupResult]
    booking_lift: float | None


class OemCampaignCreate(StrictStruct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    definition: SegmentDefinition
    texts: dict[str, MessageText]
    starts_at: datetime
    dealer_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=5000)]
    hold_out_percent: Annotated[int, msgspec.Meta(ge=0, le=50)] = 0


class OemDealerResult(msgspec.Struct):
    dealer_id: uuid.UUID
    recipients: int
    held_out: int
    contacted: int
    replied: int
    booked: int
    visited: int
    revenue: Decimal


class OemCampaignRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    starts_at: datetime
    dealers: int
    totals: dict[str, Any]
    results: list[OemDealerResult]
