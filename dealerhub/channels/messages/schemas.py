"""What callers and the API see of a message."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from dealerhub.channels.jsonb import loaded
from dealerhub.channels.messages.tables import Message, MessageStatusChange


class StatusChangeRead(msgspec.Struct):
    status: str
    channel: str | None
    detail: str
    at: datetime


class MessageRead(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID | None
    staff_user_id: uuid.UUID | None
    purpose: str
    template_key: str
    locale: str
    medium: str | None
    channel: str | None
    status: str
    reason: str
    provider_id: str | None
    related: dict[str, Any]
    reply_class: str | None
    attempts: int
    not_before: datetime | None
    created_at: datetime
    queued_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    bounced_at: datetime | None
    replied_at: datetime | None


class MessageDetail(MessageRead):
    subject: str | None = None
    body: str = ""
    html: str | None = None
    to_address: str = ""
    timeline: list[StatusChangeRead] = msgspec.field(default_factory=list)


_READ_FIELDS = [f for f in MessageRead.__struct_fields__]


def _fields(row: Message) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _READ_FIELDS}
    values["related"] = loaded(row.related, {})
    return values


def message_read(row: Message) -> MessageRead:
    return MessageRead(**_fields(row))


def message_detail(row: Message, changes: list[MessageStatusChange]) -> MessageDetail:
    return MessageDetail(
        **_fields(row),
        subject=row.subject, body=row.body, html=row.html, to_address=mask(row.to_address),
        timeline=[StatusChangeRead(c.status, c.channel, c.detail, c.at) for c in changes],
    )


def mask(address: str) -> str:
    """Enough of an address to recognise it on a screen."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"{address[:4]}****{address[-3:]}" if len(address) > 7 else "****"
