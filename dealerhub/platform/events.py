"""Domain events: written to the outbox in the changing transaction, relayed to consumers.

Delivery is at least once; `deliver` records (consumer, event id) in the consumer's own
transaction, so a redelivered event has no second effect.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.jobs import actor, periodic
from dealerhub.platform.tables import EventConsumption, EventOutbox
from dealerhub.platform.tenancy import current_tenant, insert_rows, tenant_scope, transaction

log = logging.getLogger(__name__)
RELAY_BATCH = 500


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    event_type: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    occurred_at: datetime


Consumer = Callable[[Event], Awaitable[None]]
_consumers: dict[str, dict[str, Consumer]] = {}


def consumer(event_type: str, name: str) -> Callable[[Consumer], Consumer]:
    """Subscribe an async function to an event type; `name` keys its idempotency records.

    `"*"` subscribes to every type (webhook delivery, metric facts).
    """

    def decorate(fn: Consumer) -> Consumer:
        _consumers.setdefault(event_type, {})[name] = fn
        return fn

    return decorate


def consumers_for(event_type: str) -> dict[str, Consumer]:
    return {**_consumers.get("*", {}), **_consumers.get(event_type, {})}


async def emit(
    event_type: str, payload: dict[str, Any], tenant_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Write an event in the caller's transaction (inside a tenant scope it takes that tenant)."""
    row = EventOutbox(**outbox_values(event_type, payload, tenant_id))
    await EventOutbox.insert(row)
    return row.id


async def emit_many(event_type: str, payloads: list[dict[str, Any]]) -> None:
    """Events of one type for a set-based change (an import batch), in one statement."""
    await insert_rows((EventOutbox, [outbox_values(event_type, payload)
                                     for payload in payloads]))


def outbox_values(event_type: str, payload: dict[str, Any],
                  tenant_id: uuid.UUID | None = None) -> dict[str, Any]:
    """An event's outbox row: a hot path inserts it with its change in one statement
    (`tenancy.insert_rows`), still inside the changing transaction."""
    now = datetime.now(UTC)
    return {"id": uuid.uuid4(), "created_at": now, "tenant_id": tenant_id or current_tenant.get(),
            "event_type": event_type, "payload": _jsonable(payload), "occurred_at": now,
            "published_at": None}


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, date):  # datetimes too
            return value.isoformat()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return value

    return convert(payload)


@periodic("events.relay", every_seconds=0.5)
async def relay_once(limit: int = RELAY_BATCH) -> int:
    """Publish unpublished events: enqueue one delivery per consumer, then mark them."""
    async with transaction():
        query = (
            EventOutbox.select(EventOutbox.id, EventOutbox.event_type)
            .where(EventOutbox.published_at.is_null())
            .order_by(EventOutbox.occurred_at)
            .limit(limit)
        )
        if db.is_postgres():
            query = query.lock_rows("UPDATE", skip_locked=True)
        rows = await query
        if not rows:
            return 0
        for row in rows:
            for name in consumers_for(row["event_type"]):
                deliver.send(str(row["id"]), name)
        await EventOutbox.update({EventOutbox.published_at: datetime.now(UTC)}).where(
            EventOutbox.id.is_in([row["id"] for row in rows])
        )
    return len(rows)


async def load_event(event_id: uuid.UUID) -> Event | None:
    row = (
        await EventOutbox.objects().where(EventOutbox.id == event_id).output(load_json=True).first()
    )
    if row is None:
        return None
    return Event(row.id, row.event_type, row.tenant_id, row.payload, row.occurred_at)


async def handle(event_id: uuid.UUID, consumer_name: str) -> bool:
    """Run one consumer for one event once; returns False if it had already run."""
    event = await load_event(event_id)
    if event is None:
        log.warning("event %s not found", event_id)
        return False
    fn = consumers_for(event.event_type).get(consumer_name)
    if fn is None:
        return False
    scope = tenant_scope(event.tenant_id) if event.tenant_id is not None else transaction()
    async with scope:
        done = await EventConsumption.exists().where(
            (EventConsumption.consumer == consumer_name) & (EventConsumption.event_id == event_id)
        )
        if done:
            return False
        await EventConsumption.insert(EventConsumption(consumer=consumer_name, event_id=event_id))
        await fn(event)
    return True


@actor("events.deliver", max_retries=8)
async def deliver(event_id: str, consumer_name: str) -> None:
    await handle(uuid.UUID(event_id), consumer_name)
