"""Messages and their lifecycle; the send outbox the dispatcher claims from.

`ChannelOutbox` is a platform table on purpose: it holds ids and hashes only (no personal
data), so the single dispatcher and the callback router can read it across dealers, as the
events relay reads the event outbox.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class Message(TenantTable, tablename="channel_message"):
    customer_id = UUID(null=True, default=None)
    staff_user_id = UUID(null=True, default=None)
    purpose = Varchar(length=16)
    template_key = Varchar(length=100)
    locale = Varchar(length=8, default="zh-CN")
    medium = Varchar(length=16, null=True, default=None)
    channel = Varchar(length=64, null=True, default=None)
    plan = JSONB(default=[])  # remaining [medium, channel, address] after the current one
    to_address = Varchar(length=320, default="")
    subject = Text(null=True, default=None)
    body = Text(default="")
    html = Text(null=True, default=None)
    status = Varchar(length=16, default="queued")
    reason = Varchar(length=300, default="")
    provider_id = Varchar(length=128, null=True, default=None)
    idempotency_key = Varchar(length=200, null=True, default=None)
    related = JSONB(default={})
    reply_class = Varchar(length=16, null=True, default=None)
    attempts = SmallInt(default=0)
    not_before = Timestamptz(default=TimestamptzNow())
    lease_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    queued_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)
    bounced_at = Timestamptz(null=True, default=None)
    replied_at = Timestamptz(null=True, default=None)


class MessageStatusChange(TenantTable, tablename="channel_message_status"):
    """The message's timeline: one row per status it reached (or attempt that failed)."""

    message_id = UUID()
    status = Varchar(length=16)
    channel = Varchar(length=64, null=True, default=None)
    detail = Varchar(length=300, default="")
    at = Timestamptz(default=TimestamptzNow())


class ChannelOutbox(PlatformTable, tablename="channel_outbox"):
    """One row per message to send: claimed by the dispatcher, finished when the send ends."""

    tenant_id = UUID()
    message_id = UUID()
    channel = Varchar(length=64, null=True, default=None)
    provider_id = Varchar(length=128, null=True, default=None)
    address_hash = Varchar(length=64, default="")
    due_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
