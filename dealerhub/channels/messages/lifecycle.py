"""A message's lifecycle after it was decided: queued → sending → sent → delivered /
failed / bounced / replied. Statuses only move forward; callbacks that arrive twice or out
of order change nothing.

`send_batch` is what the `channels.send` job runs: claim (a lease, so a worker killed
mid-send leaves the row to the sweeper), call the channels outside any transaction, record.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from opentelemetry import trace

from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.credentials.service import Account
from dealerhub.channels.jsonb import loaded
from dealerhub.channels.messages.service import address_hash
from dealerhub.channels.messages.tables import ChannelOutbox, Message, MessageStatusChange
from dealerhub.channels.plugin import (
    PROVIDER_TIMEOUT_SECONDS,
    CallbackEvent,
    ChannelError,
    OutboundMessage,
    PermanentFailure,
    TemporaryFailure,
)
from dealerhub.platform import db, events
from dealerhub.platform.config import get_settings
from dealerhub.platform.links import sign_link
from dealerhub.platform.tables import EventConsumption, EventOutbox
from dealerhub.platform.tenancy import insert_rows, require_tenant, tenant_scope, transaction

log = logging.getLogger(__name__)
tracer = trace.get_tracer("dealerhub.channels")
RANK = {"suppressed": -1, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "failed": 3,
        "bounced": 3, "replied": 4}
TIMESTAMP = {"queued": Message.queued_at, "sent": Message.sent_at,
             "delivered": Message.delivered_at, "failed": Message.failed_at,
             "bounced": Message.bounced_at, "replied": Message.replied_at}
MAX_ATTEMPTS = 6
STOP_WORDS = frozenset({"stop", "unsubscribe", "td", "t", "退订", "取消", "退订短信"})
DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.。!！]?\s*$")
# A message as a job claimed it: its columns as attributes (building Piccolo instances for a
# batch's rows was a fifth of the batch's CPU); callbacks read full `Message` instances.
MessageRow = Message | SimpleNamespace


def _ids(row: MessageRow) -> dict[str, Any]:
    return {"message_id": row.id, "customer_id": row.customer_id, "channel": row.channel,
            "purpose": row.purpose, "related": loaded(row.related, {})}


async def _change(row: MessageRow, status: str, at: datetime, detail: str = "",
                  extra: dict[Any, Any] | None = None) -> None:
    values: dict[Any, Any] = {Message.status: status, **(extra or {})}
    if status in TIMESTAMP:
        values[TIMESTAMP[status]] = at
    await Message.update_in_tenant(values).where(Message.id == row.id)
    await MessageStatusChange.insert_in_tenant(MessageStatusChange(
        message_id=row.id, status=status, channel=row.channel, detail=detail[:300], at=at))
    row.status = status


# --- sending -------------------------------------------------------------------------------

@dataclass
class Claimed:
    row: MessageRow
    account: Account | None
    outcome: str = ""
    provider_id: str | None = None
    error: str = ""
    retry_after: float | None = None


def _lease() -> timedelta:
    return timedelta(seconds=get_settings().channel_send_lease_seconds)


def _marks(values: list[Any]) -> str:
    """`{}` placeholders for an `in (…)` list of these values (PostgreSQL and SQLite)."""
    return ", ".join("{}" for _ in values)


async def _claim(message_ids: list[uuid.UUID], now: datetime) -> list[Claimed]:
    """Lease the claimable ones among `message_ids` in one statement: only rows this
    statement moved to `sending` come back, so two workers never both claim a message."""
    if not message_ids:
        return []
    found = await db.fetch(
        f"update channel_message set status = 'sending', lease_until = {{}}, "
        f"attempts = attempts + 1 where tenant_id = {{}} and id in ({_marks(message_ids)}) "
        f"and ((status = 'queued' and not_before <= {{}}) "
        f"or (status = 'sending' and lease_until < {{}})) returning *",
        now + _lease(), require_tenant(), *message_ids, now, now)
    accounts: dict[str, Account | None] = {}
    claimed = []
    for values in found:
        row = SimpleNamespace(**values)
        if row.channel not in accounts:
            accounts[row.channel] = await credentials.account_for(row.channel)
        claimed.append(Claimed(row, accounts[row.channel]))
    return claimed


def _outbound(row: MessageRow, account: Account) -> OutboundMessage:
    base = get_settings().public_base_url
    unsubscribe = None
    if row.purpose == "marketing" and row.customer_id is not None:
        token = sign_link("unsubscribe", {"t": str(row.tenant_id), "c": str(row.customer_id)})
        unsubscribe = f"{base}/c/unsubscribe/{token}"
    return OutboundMessage(
        message_id=str(row.id), tenant_id=str(row.tenant_id), to=row.to_address, body=row.body,
        subject=row.subject, html=row.html, sender=account.sender or None,
        callback_url=f"{base}/hooks/channels/{account.channel}/{row.tenant_id}"
                     f"?message_id={row.id}",
        unsubscribe_url=unsubscribe, template_key=row.template_key, locale=row.locale,
    )


async def _call(item: Claimed) -> None:
    if item.account is None:
        item.outcome, item.error = "permanent", f"no account for channel {item.row.channel}"
        return
    with tracer.start_as_current_span(f"channel {item.account.channel}.send") as span:
        span.set_attribute("dealerhub.tenant_id", str(item.row.tenant_id))
        try:
            plugin = item.account.plugin()
            async with asyncio.timeout(PROVIDER_TIMEOUT_SECONDS + 2):  # no task per send
                item.provider_id = await plugin.send(_outbound(item.row, item.account))
            item.outcome = "sent"
        except PermanentFailure as error:
            item.outcome, item.error = "permanent", str(error)
        except TemporaryFailure as error:
            item.outcome, item.error, item.retry_after = "temporary", str(error), error.retry_after
        except (TimeoutError, ChannelError) as error:
            item.outcome, item.error = "temporary", str(error) or "provider timed out"
        except Exception as error:  # a plugin bug must not lose the message
            log.exception("channel %s failed", item.row.channel)
            item.outcome, item.error = "temporary", f"{type(error).__name__}: {error}"[:300]


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    seconds = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(seconds, retry_after or 0))


async def _mark_sent(items: list[Claimed], now: datetime) -> None:
    """The common outcome, recorded set-wise: three statements for the whole batch."""
    cases = " ".join("when {} then {}" for _ in items)
    marks = _marks(items)
    pairs = [value for item in items for value in (item.row.id, item.provider_id)]
    ids = [item.row.id for item in items]
    await db.fetch(
        f"update channel_message set sent_at = {{}}, lease_until = null, "
        f"status = case when status = 'sending' then 'sent' else status end, "
        f"provider_id = case id {cases} end "
        f"where tenant_id = {{}} and id in ({marks})",
        now, *pairs, require_tenant(), *ids)
    await db.fetch(
        f"update channel_outbox set done_at = {{}}, sent_at = {{}}, "
        f"provider_id = case message_id {cases} end where message_id in ({marks})",
        now, now, *pairs, *ids)
    await insert_rows(
        (MessageStatusChange, [{"message_id": item.row.id, "status": "sent",  # ids: the DB's
                                "channel": item.row.channel, "detail": "", "at": now}
                               for item in items]),
        (EventOutbox, [events.outbox_values("message.sent", _ids(item.row)) for item in items]))


async def _record_other(item: Claimed, now: datetime) -> None:
    row = item.row
    outbox = ChannelOutbox.message_id == row.id
    if item.outcome == "temporary" and row.attempts < MAX_ATTEMPTS:
        due = now + _backoff(row.attempts, item.retry_after)
        await _change(row, "queued", now, f"retry: {item.error}",
                      extra={Message.not_before: due, Message.lease_until: None})
        await ChannelOutbox.update({ChannelOutbox.due_at: due, ChannelOutbox.dispatched_at: None}
                                   ).where(outbox)
        return
    plan = list(loaded(row.plan, []))
    if plan:
        medium, channel, address = plan.pop(0)
        await MessageStatusChange.insert_in_tenant(MessageStatusChange(
            message_id=row.id, status="failed", channel=row.channel,
            detail=f"fallback: {item.error}"[:300], at=now))
        row.channel = channel
        await _change(row, "queued", now, f"next channel {channel}", extra={
            Message.medium: medium, Message.channel: channel, Message.to_address: address,
            Message.plan: plan, Message.not_before: now, Message.lease_until: None,
            Message.attempts: 0})
        await ChannelOutbox.update({
            ChannelOutbox.channel: channel, ChannelOutbox.address_hash: address_hash(address),
            ChannelOutbox.due_at: now, ChannelOutbox.dispatched_at: None}).where(outbox)
        return
    await _change(row, "failed", now, item.error, extra={Message.reason: item.error[:300],
                                                         Message.lease_until: None})
    await ChannelOutbox.update({ChannelOutbox.done_at: now}).where(outbox)
    await events.emit("message.failed", _ids(row))


async def _record(claimed: list[Claimed], now: datetime) -> None:
    """Record every outcome, unless another worker took the lease meanwhile (its record wins)."""
    current = {row["id"]: row for row in await db.fetch(  # raw, like the claimed rows' ids
        f"select id, status, attempts from channel_message where tenant_id = {{}} "
        f"and id in ({_marks(claimed)})", require_tenant(), *[item.row.id for item in claimed])}
    mine = [item for item in claimed if (found := current.get(item.row.id)) is not None
            and found["attempts"] == item.row.attempts
            and (found["status"] == "sending"  # or a callback overtook our record of the send:
                 or (item.outcome == "sent" and RANK.get(found["status"], 0) > RANK["sent"]))]
    sent = [item for item in mine if item.outcome == "sent"]
    if sent:
        await _mark_sent(sent, now)
    for item in mine:
        if item.outcome != "sent":
            await _record_other(item, now)


async def send_batch(tenant_id: uuid.UUID | str, message_ids: list[str],
                     now: datetime | None = None) -> dict[str, int]:
    """Send the given messages of one dealer; returns a count per outcome."""
    ids = []
    for value in message_ids:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    async with tenant_scope(tenant_id):
        claimed = await _claim(ids, now or datetime.now(UTC))
    if not claimed:
        return {}
    await asyncio.gather(*(_call(item) for item in claimed))
    finished = datetime.now(UTC)
    counts: dict[str, int] = {}
    async with tenant_scope(tenant_id):
        await _record(claimed, finished)
    for item in claimed:
        counts[item.outcome] = counts.get(item.outcome, 0) + 1
    return counts


# --- the outbox: dispatcher and sweeper ------------------------------------------------------

DISPATCH_BATCH = 2000
JOB_SIZE = 50


async def dispatch_due(send: Any, now: datetime | None = None, limit: int = DISPATCH_BATCH) -> int:
    """Hand due outbox rows to the send job. If the broker is down the transaction rolls back
    and the rows wait in the database until it returns."""
    now = now or datetime.now(UTC)
    async with transaction():
        query = ChannelOutbox.select(ChannelOutbox.id, ChannelOutbox.tenant_id,
                                     ChannelOutbox.message_id).where(
            ChannelOutbox.dispatched_at.is_null() & ChannelOutbox.done_at.is_null()
            & (ChannelOutbox.due_at <= now)
        ).order_by(ChannelOutbox.due_at).limit(limit)
        query = db.skip_locked(query)
        rows = await query
        if not rows:
            return 0
        by_tenant: dict[str, list[str]] = {}
        for row in rows:
            by_tenant.setdefault(str(row["tenant_id"]), []).append(str(row["message_id"]))
        for tenant, message_ids in by_tenant.items():
            for batch in db.chunks(message_ids, JOB_SIZE):
                send(tenant, batch)
        await ChannelOutbox.update({ChannelOutbox.dispatched_at: now}).where(
            ChannelOutbox.id.is_in([row["id"] for row in rows]))
    return len(rows)


async def sweep_stale(now: datetime | None = None) -> int:
    """Rows dispatched longer than a lease ago and not finished (a worker died, a job was
    lost) go back to the dispatcher; the claim's lease keeps a live send from doubling."""
    now = now or datetime.now(UTC)
    async with transaction():
        stale = await ChannelOutbox.select(ChannelOutbox.id).where(
            ChannelOutbox.done_at.is_null() & ChannelOutbox.dispatched_at.is_not_null()
            & (ChannelOutbox.dispatched_at < now - _lease())
        ).limit(DISPATCH_BATCH)
        if stale:
            await ChannelOutbox.update({ChannelOutbox.dispatched_at: None}).where(
                ChannelOutbox.id.is_in([row["id"] for row in stale]))
    return len(stale)


# --- callbacks -------------------------------------------------------------------------------

def classify_reply(text: str | None) -> str:
    """The only part of a reply we keep: "stop", "digit:N" or "other" (no free text)."""
    cleaned = (text or "").strip()
    if cleaned.lower().strip(".!。！ ") in STOP_WORDS:
        return "stop"
    match = DIGIT.match(cleaned)
    if match:
        return f"digit:{int(match.group(1))}"
    return "other"


async def _once(source: str, external_id: str | None) -> bool:
    """True the first time (source, external id) is seen; callbacks may come twice."""
    if not external_id:
        return True
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"{source}:{external_id}")
    if await EventConsumption.exists().where(
        (EventConsumption.consumer == source[:100]) & (EventConsumption.event_id == key)
    ):
        return False
    await EventConsumption.insert(EventConsumption(consumer=source[:100], event_id=key))
    return True


async def _outbox_row(channel: str, tenant_hint: uuid.UUID | None, *,
                      provider_id: str | None = None, from_address: str | None = None,
                      message_id: str | None = None) -> dict[str, Any] | None:
    query = ChannelOutbox.select(ChannelOutbox.tenant_id, ChannelOutbox.message_id)
    ours = _uuid_or_none(message_id)
    if ours is not None and tenant_hint is not None:
        query = query.where((ChannelOutbox.message_id == ours)
                            & (ChannelOutbox.channel == channel))
    elif provider_id:
        query = query.where((ChannelOutbox.provider_id == provider_id)
                            & (ChannelOutbox.channel == channel))
    elif from_address:
        query = query.where((ChannelOutbox.address_hash == address_hash(from_address))
                            & ChannelOutbox.sent_at.is_not_null()
                            ).order_by(ChannelOutbox.sent_at, ascending=False)
    else:
        return None
    if tenant_hint is not None:
        query = query.where(ChannelOutbox.tenant_id == tenant_hint)
    return await query.first()


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _apply_status(row: Message, event: CallbackEvent, at: datetime) -> bool:
    status = event.status or ""
    if status not in RANK or RANK[status] <= RANK.get(row.status, 0):
        return False
    await _change(row, status, at, event.detail)
    if status == "delivered":
        await events.emit("message.delivered", _ids(row))
    elif status in ("failed", "bounced"):
        await events.emit("message.failed", {**_ids(row), "status": status})
    return True


async def _apply_reply(row: Message, event: CallbackEvent, at: datetime) -> bool:
    from dealerhub.tenants.customers import service as customers

    reply_class = classify_reply(event.text)
    if RANK["replied"] > RANK.get(row.status, 0):
        await _change(row, "replied", at, reply_class, extra={Message.reply_class: reply_class})
    else:
        await Message.update_in_tenant({Message.reply_class: reply_class}).where(
            Message.id == row.id)
    payload = {**_ids(row), "reply": reply_class}
    await events.emit("message.replied", payload)
    if reply_class == "stop" and row.customer_id is not None:
        await customers.withdraw_consent(row.tenant_id, row.customer_id, "marketing",
                                         f"reply:{row.channel}")
    elif reply_class.startswith("digit:"):
        await events.emit("sms.reply_digit", {
            "message_id": row.id, "customer_id": row.customer_id,
            "digit": int(reply_class.split(":")[1]), "related": loaded(row.related, {})})
    return True


async def _apply_complaint(row: Message, event: CallbackEvent, at: datetime) -> bool:
    from dealerhub.tenants.customers import service as customers

    await MessageStatusChange.insert_in_tenant(MessageStatusChange(
        message_id=row.id, status="complaint", channel=row.channel, detail=event.detail, at=at))
    if row.customer_id is not None:
        await customers.withdraw_consent(row.tenant_id, row.customer_id, "marketing",
                                         f"complaint:{row.channel}")
    return True


_APPLY = {"status": _apply_status, "reply": _apply_reply, "complaint": _apply_complaint}


async def apply_callback(channel: str, tenant_hint: uuid.UUID | None,
                         found: list[CallbackEvent]) -> int:
    """Apply a verified callback's facts; returns how many changed something. Unknown
    message ids and repeats are ignored."""
    changed = 0
    for event in found:
        apply = _APPLY.get(event.kind)
        if apply is None:
            continue
        is_reply = event.kind == "reply"
        async with transaction(write=False):
            ref = await _outbox_row(channel, tenant_hint,
                                    provider_id=None if is_reply else event.provider_id,
                                    from_address=event.from_address if is_reply else None,
                                    message_id=None if is_reply else event.message_id)
        if ref is None:
            continue
        async with tenant_scope(ref["tenant_id"]):
            # a reply or complaint has its own id at the provider: act on it once
            if event.kind != "status" and not await _once(f"callback:{channel}:{event.kind}",
                                                           event.provider_id):
                continue
            row = await Message.objects_in_tenant().where(Message.id == ref["message_id"]).first()
            if row is not None and await apply(row, event, event.at or datetime.now(UTC)):
                changed += 1
    return changed
