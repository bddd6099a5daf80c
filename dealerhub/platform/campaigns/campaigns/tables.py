"""Dealer campaigns, their recipients (one per customer, with the hold-out draw and the
contact steps), CS agents' responses, and OEM national campaigns with per-dealer aggregates."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Integer,
    Numeric,
    SmallInt,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class Campaign(TenantTable, tablename="campaign"):
    name = Varchar(length=120)
    purpose = Varchar(length=16, default="marketing")
    segment_id = UUID(null=True, default=None)
    due_reason = Varchar(length=32, null=True, default=None)
    texts = JSONB(default={})  # {"zh-CN": {"subject":…, "body":…}, "en:value": {…}}
    second_contact_after_days = SmallInt(null=True, default=3)
    nudge_after_days = SmallInt(null=True, default=3)
    hold_out_percent = SmallInt(default=0)
    booking_window_days = SmallInt(default=14)
    starts_at = Timestamptz()
    status = Varchar(length=16, default="scheduled")  # scheduled | running | finished
    oem_campaign_id = UUID(null=True, default=None)
    # invite only as many as the workshop's free capacity ahead can absorb
    throttle_to_capacity = Boolean(default=False)
    minutes_per_visit = SmallInt(default=60)
    recipients = Integer(default=0)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CampaignRecipient(TenantTable, tablename="campaign_recipient"):
    campaign_id = UUID()
    customer_id = UUID()
    vehicle_id = UUID(null=True, default=None)
    variant = Varchar(length=32, default="")  # the template variant: "zh-CN:value"
    hold_out = Boolean(default=False)
    step = SmallInt(default=0)  # contacts made: 1 first, 2 second, 3 self-service nudge
    status = Varchar(length=16, default="pending")
    next_step_at = Timestamptz(null=True, default=None)
    last_message_id = UUID(null=True, default=None)
    suppressed_reason = Varchar(length=64, default="")
    contacted_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    replied_at = Timestamptz(null=True, default=None)
    booked_at = Timestamptz(null=True, default=None)
    appointment_id = UUID(null=True, default=None)
    visited_at = Timestamptz(null=True, default=None)
    revenue = Numeric(digits=(12, 2), default=Decimal("0"))
    response = Varchar(length=16, default="")  # accepted | declined (recorded by CS)
    response_reason = Varchar(length=200, default="")


class OemCampaign(PlatformTable, tablename="oem_campaign"):
    """Authored once at headquarters; runs inside each participating dealer."""

    name = Varchar(length=120)
    definition = JSONB(default={})
    texts = JSONB(default={})
    hold_out_percent = SmallInt(default=0)
    starts_at = Timestamptz()
    dealer_ids = JSONB(default=[])


class OemCampaignResult(PlatformTable, tablename="oem_campaign_result"):
    """Per-dealer counts: the only campaign data headquarters reads across dealers."""

    oem_campaign_id = UUID()
    dealer_id = UUID()
    recipients = Integer(default=0)
    held_out = Integer(default=0)
    contacted = Integer(default=0)
    replied = Integer(default=0)
    booked = Integer(default=0)
    visited = Integer(default=0)
    revenue = Numeric(digits=(14, 2), default=Decimal("0"))
    updated_at = Timestamptz(default=TimestamptzNow())
