"""Enqueueing messages: everything is decided here, before any channel is called.

`enqueue_message` writes the message (queued, or suppressed with the reason) and, when
queued, a row in the send outbox, in the caller's transaction when it is called inside the
same tenant's scope. The dispatcher hands outbox rows to the `channels.send` job.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.messages import pipeline, templates
from dealerhub.channels.messages.schemas import (
    MessageDetail,
    MessageRead,
    message_detail,
    message_read,
)
from dealerhub.channels.messages.tables import ChannelOutbox, Message, MessageStatusChange
from dealerhub.platform.directory import regional_managers
from dealerhub.platform.tables import AppUser, Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.timeline import TimelineEntry, register_timeline_source

STAFF_PURPOSE = "staff"
MESSAGE_STATUSES = ("suppressed", "queued", "sending", "sent", "delivered", "failed", "bounced",
                    "replied")


class MessageRejected(ValueError):
    """The message cannot be enqueued; `field` names the argument at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def address_hash(address: str) -> str:
    """Replies are matched to messages by this hash, so the outbox holds no address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


async def dealer_time_zone(tenant_id: uuid.UUID) -> str:
    row = await Dealer.select(Dealer.time_zone).where(Dealer.id == tenant_id).first()
    return row["time_zone"] if row else "Asia/Shanghai"


async def _sent_this_week(customer_ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, int]:
    """Marketing messages each customer got in the last 7 days (the weekly cap), one query."""
    rows = await Message.select_in_tenant(Message.customer_id, Count(alias="sent")).where(
        Message.customer_id.is_in(customer_ids) & (Message.purpose == "marketing")
        & (Message.status != "suppressed") & (Message.created_at >= now - timedelta(days=7))
    ).group_by(Message.customer_id)
    return {row["customer_id"]: row["sent"] for row in rows}


async def _existing(idempotency_keys: list[str]) -> dict[str, Message]:
    if not idempotency_keys:
        return {}
    return {row.idempotency_key: row for row in await Message.objects_in_tenant().where(
        Message.idempotency_key.is_in(idempotency_keys))}


async def _write(items: list[tuple[Message, list[pipeline.Route]]], now: datetime) -> None:
    """Messages, their first timeline entries and the outbox rows of the queued ones: three
    statements whatever the number of messages."""
    if not items:
        return
    for row, routes in items:
        if routes:
            first, rest = routes[0], routes[1:]
            row.medium, row.channel, row.to_address = first.medium, first.channel, first.address
            row.plan = [route.as_list() for route in rest]
        row.created_at = now
        if row.status == "queued":
            row.queued_at = now
    rows = [row for row, _ in items]
    await Message.insert_in_tenant(*rows)
    await MessageStatusChange.insert_in_tenant(*[MessageStatusChange(
        message_id=row.id, status=row.status, channel=row.channel, detail=row.reason, at=now,
    ) for row in rows])
    queued = [row for row in rows if row.status == "queued"]
    if queued:
        await ChannelOutbox.insert(*[ChannelOutbox(
            tenant_id=row.tenant_id, message_id=row.id, channel=row.channel,
            address_hash=address_hash(row.to_address), due_at=row.not_before,
        ) for row in queued])


@dataclass(frozen=True)
class MessageRequest:
    """One customer's message in a batch (`enqueue_messages`)."""

    customer_id: uuid.UUID
    context: dict[str, Any]
    idempotency_key: str | None = None
    related: dict[str, str] | None = None


def _check(purpose: str, channel: str | None, template_key: str) -> None:
    if purpose not in templates.PURPOSES:
        raise MessageRejected("purpose", f"purpose must be one of {', '.join(templates.PURPOSES)}")
    if channel is not None and channel not in pipeline.FALLBACK_ORDER:
        choices = ", ".join(pipeline.FALLBACK_ORDER)
        raise MessageRejected("channel", f"channel must be one of {choices}")
    if templates.get_template(template_key) is None:
        raise MessageRejected("template_key", f"no template {template_key!r} is registered")


async def enqueue_message(
    tenant_id: uuid.UUID, customer_id: uuid.UUID, purpose: str, template_key: str,
    context: dict[str, Any], *, channel: str | None = None, not_before: datetime | None = None,
    idempotency_key: str | None = None, related: dict[str, str] | None = None,
    now: datetime | None = None,
) -> MessageRead:
    """Decide and record one message to a customer. Raises MessageRejected (or a
    TemplateError naming the missing variable) without writing anything."""
    (message,) = await enqueue_messages(
        tenant_id, purpose, template_key,
        [MessageRequest(customer_id, context, idempotency_key, related)],
        channel=channel, not_before=not_before, now=now)
    return message


async def enqueue_messages(
    tenant_id: uuid.UUID, purpose: str, template_key: str, requests: list[MessageRequest], *,
    channel: str | None = None, not_before: datetime | None = None, now: datetime | None = None,
) -> list[MessageRead]:
    """Decide and record one message to each customer, in the order asked: the same rules as
    for one (a repeated idempotency key returns the first message), read and written
    set-based for the whole batch. Raises MessageRejected (or a TemplateError naming the
    missing variable) without writing anything."""
    from dealerhub.tenants.customers import service as customers

    _check(purpose, channel, template_key)
    now = now or datetime.now(UTC)
    marketing = purpose == "marketing"  # quiet hours and the cap concern marketing only
    async with tenant_scope(tenant_id) as tid:
        existing = await _existing([r.idempotency_key for r in requests if r.idempotency_key])
        wanted = [r.customer_id for r in requests]
        profiles = await customers.contact_profiles(tid, wanted)
        accounts = await credentials.accounts_by_medium()
        time_zone = await dealer_time_zone(tid) if marketing else "UTC"
        sent = await _sent_this_week(wanted, now) if marketing else {}
        results: list[Message] = []
        new: list[tuple[Message, list[pipeline.Route]]] = []
        for request in requests:
            key = request.idempotency_key
            if key and key in existing:
                results.append(existing[key])
                continue
            profile = profiles.get(request.customer_id)
            if profile is None:
                raise MessageRejected("customer_id", f"no such customer {request.customer_id}")
            full_context = {"customer": {"name": profile.name, "type": profile.customer_type},
                            "customer_name": profile.name, **request.context}
            rendered = templates.render(template_key, profile.locale or "zh-CN",
                                        profile.customer_type, full_context)
            decision = pipeline.decide(
                purpose=purpose, profile=profile, requested=channel, accounts=accounts, now=now,
                not_before=not_before, time_zone=time_zone,
                sent_this_week=sent.get(request.customer_id, 0),
            )
            if marketing and decision.status == "queued":
                sent[request.customer_id] = sent.get(request.customer_id, 0) + 1
            row = Message(
                customer_id=request.customer_id, purpose=purpose, template_key=template_key,
                locale=rendered.locale, subject=rendered.subject, body=rendered.body,
                html=rendered.html, status=decision.status, reason=decision.reason,
                idempotency_key=key, related=dict(request.related or {}),
                not_before=decision.not_before or now,
            )
            new.append((row, decision.routes if decision.status == "queued" else []))
            results.append(row)
            if key:
                existing[key] = row
        await _write(new, now)
        return [message_read(row) for row in results]


STAFF_MEDIA = ("sms", "email")


@dataclass(frozen=True)
class StaffContact:
    """How a staff member is reached: the staff record's phone, the user's e-mail."""

    name: str
    locale: str
    phone_e164: str | None
    email: str | None
    user_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    wechat_id: None = None


async def _staff_contact(tid: uuid.UUID, staff_id: uuid.UUID | None,
                         user_id: uuid.UUID | None) -> StaffContact | None:
    from dealerhub.tenants.staff.tables import Staff

    staff = (await Staff.get_in_tenant(staff_id) if staff_id is not None else
             await Staff.objects_in_tenant().where(Staff.user_id == user_id).first())
    if staff_id is not None and staff is None:
        return None
    user_id = staff.user_id if staff is not None else user_id
    user = await AppUser.objects().where(AppUser.id == user_id).first() if user_id else None
    if user is not None and user.dealer != tid and user.id not in await regional_managers(tid):
        user = None
    if user is None and staff is None:
        return None
    return StaffContact(
        name=staff.name if staff is not None else user.display_name,
        locale=user.locale if user is not None else "zh-CN",
        phone_e164=staff.phone_e164 if staff is not None else None,
        email=user.email if user is not None and user.is_active else None,
        user_id=user.id if user is not None else None,
        staff_id=staff.id if staff is not None else None)


async def enqueue_staff_message(
    tenant_id: uuid.UUID, template_key: str, context: dict[str, Any], *,
    staff_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None,
    media: tuple[str, ...] = STAFF_MEDIA, urgent: bool = False,
    related: dict[str, str] | None = None, now: datetime | None = None,
) -> list[MessageRead]:
    """Tell one of the dealer's staff (a staff record or a user): one message per medium in
    `media` that reaches them, purpose "staff" (internal: no consent rules, no cap), held
    by quiet hours unless `urgent`. Returns the messages queued (none if nothing reaches
    them); MessageRejected names the argument at fault."""
    if (staff_id is None) == (user_id is None):
        raise MessageRejected("staff_id", "give either staff_id or user_id")
    unknown = [medium for medium in media if medium not in pipeline.FALLBACK_ORDER]
    if unknown or not media:
        raise MessageRejected("media", f"media must be among {', '.join(pipeline.FALLBACK_ORDER)}")
    if templates.get_template(template_key) is None:
        raise MessageRejected("template_key", f"no template {template_key!r} is registered")
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id) as tid:
        contact = await _staff_contact(tid, staff_id, user_id)
        if contact is None:
            raise MessageRejected("staff_id" if staff_id else "user_id",
                                  "no such staff member or user at this dealer")
        rendered = templates.render(template_key, contact.locale, None,
                                    {"user": {"name": contact.name}, **context})
        not_before = pipeline.staff_not_before(
            now, urgent, "UTC" if urgent else await dealer_time_zone(tid))
        written: list[tuple[Message, list[pipeline.Route]]] = []
        for routes in pipeline.staff_routes(contact, media,
                                            await credentials.accounts_by_medium()):
            row = Message(
                staff_user_id=contact.user_id, purpose=STAFF_PURPOSE, template_key=template_key,
                locale=rendered.locale, subject=rendered.subject, body=rendered.body,
                html=rendered.html, status="queued",
                reason="" if not_before == now else "quiet hours → deferred",
                related={**(related or {}), **({"staff_id": str(contact.staff_id)}
                                               if contact.staff_id else {})},
                not_before=not_before)
            written.append((row, routes))
        await _write(written, now)
        return [message_read(row) for row, _ in written]


async def list_messages(
    tenant_id: uuid.UUID, *, customer_id: uuid.UUID | None = None, status: str | None = None,
    limit: int = 100, offset: int = 0,
) -> list[MessageRead]:
    async with tenant_scope(tenant_id, write=False):
        query = Message.objects_in_tenant().order_by(Message.created_at, ascending=False)
        if customer_id is not None:
            query = query.where(Message.customer_id == customer_id)
        if status is not None:
            query = query.where(Message.status == status)
        rows = await query.limit(limit).offset(offset)
    return [message_read(row) for row in rows]


async def get_message(tenant_id: uuid.UUID, message_id: uuid.UUID) -> MessageDetail | None:
    async with tenant_scope(tenant_id, write=False):
        row = await Message.get_in_tenant(message_id)
        if row is None:
            return None
        changes = await MessageStatusChange.objects_in_tenant().where(
            MessageStatusChange.message_id == row.id
        ).order_by(MessageStatusChange.at)
    return message_detail(row, changes)


async def timeline_entries(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                           limit: int) -> list[TimelineEntry]:
    """The customer 360 timeline: each message with its latest status and when it got there."""
    async with tenant_scope(tenant_id, write=False):
        rows = await Message.objects_in_tenant().where(
            Message.customer_id == customer_id
        ).order_by(Message.created_at, ascending=False).limit(limit)
    entries = []
    for row in rows:
        reached = [(name, getattr(row, f"{name}_at")) for name in
                   ("queued", "sent", "delivered", "failed", "bounced", "replied")
                   if getattr(row, f"{name}_at") is not None]
        detail = " → ".join(f"{name} {at:%m-%d %H:%M}" for name, at in reached)
        entries.append(TimelineEntry(
            at=row.created_at, kind="message", title=row.subject or row.template_key,
            detail=" · ".join(part for part in (row.channel or "", detail, row.reason) if part),
            href=f"/messages/{row.id}", status=row.status))
    return entries


register_timeline_source("channels.messages", timeline_entries)
