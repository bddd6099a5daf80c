"""Domain events: written to the outbox in the changing transaction, relayed to consumers.

Delivery is at least once; `deliver` records (consumer, event id) in the consumer's own
transaction, so a redelivered event has no second effect. The relay hands each consumer its
events in batches (`deliver_batch`): one job per consumer and batch, one transaction per
dealer in it; a consumer's effects must therefore live in that transaction (the database),
as a batch that fails is rolled back and its events run again one by one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.jobs import actor, periodic
from dealerhub.platform.tables import EventConsumption, EventOutbox
from dealerhub.platform.tenancy import current_tenant, insert_rows, tenant_scope, transaction

log = logging.getLogger(__name__)
RELAY_BATCH = 500
DELIVERY_BATCH = 50


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    event_type: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    occurred_at: datetime


Consumer = Callable[[Event], Awaitable[None]]
BatchConsumer = Callable[[list[Event]], Awaitable[None]]
_consumers: dict[str, dict[str, Consumer]] = {}
_batch_forms: dict[str, BatchConsumer] = {}


def consumer(event_type: str, name: str) -> Callable[[Consumer], Consumer]:
    """Subscribe an async function to an event type; `name` keys its idempotency records.

    `"*"` subscribes to every type (webhook delivery, metric facts).
    """

    def decorate(fn: Consumer) -> Consumer:
        _consumers.setdefault(event_type, {})[name] = fn
        return fn

    return decorate


def batch_consumer(event_type: str, name: str) -> Callable[[BatchConsumer], BatchConsumer]:
    """Subscribe a function that takes one dealer's events of a delivery batch at once, so
    what they share is read once per batch, not once per event; a single delivery hands it
    a list of one."""

    def decorate(fn: BatchConsumer) -> BatchConsumer:
        async def one(event: Event) -> None:
            await fn([event])

        consumer(event_type, name)(one)
        _batch_forms[name] = fn
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
    await insert_rows((EventOutbox, outbox_rows((event_type, p) for p in payloads)))


def outbox_rows(found: Iterable[tuple[str, dict[str, Any]]],
                tenant_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Outbox rows of many (event type, payload) for one `insert_rows`: the id and the
    times are the columns' defaults, made by the database (a bulk import emits an event
    per vehicle; making each id and timestamp here cost more than its payload)."""
    tenant_id = tenant_id or current_tenant.get()
    return [{"tenant_id": tenant_id, "event_type": event_type, "payload": _jsonable(payload)}
            for event_type, payload in found]


def outbox_values(event_type: str, payload: dict[str, Any],
                  tenant_id: uuid.UUID | None = None) -> dict[str, Any]:
    """An event's outbox row: a hot path inserts it with its change in one statement
    (`tenancy.insert_rows`), still inside the changing transaction."""
    now = datetime.now(UTC)
    return {"id": uuid.uuid4(), "created_at": now, "tenant_id": tenant_id or current_tenant.get(),
            "event_type": event_type, "payload": _jsonable(payload), "occurred_at": now,
            "published_at": None}


_PLAIN = (str, int, float, type(None))  # bool is an int
_BY_TYPE: dict[type, Callable[[Any], str]] = {uuid.UUID: str, date: date.isoformat,
                                              datetime: datetime.isoformat}


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return _json_value(payload)


def _json_value(value: Any) -> Any:
    """JSON-ready copy: ids as text, dates and datetimes in ISO form (imports emit
    thousands of events per batch, so plain values are let through first, and a dict's
    values of the common exact types are converted without a call of this function)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else convert(v) if (convert := _BY_TYPE.get(type(v)))
                else _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


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
        query = db.skip_locked(query)
        rows = await query
        if not rows:
            return 0
        by_consumer: dict[str, list[str]] = {}
        for row in rows:
            for name in consumers_for(row["event_type"]):
                by_consumer.setdefault(name, []).append(str(row["id"]))
        for name, event_ids in by_consumer.items():
            for batch in db.chunks(event_ids, DELIVERY_BATCH):
                deliver_batch.send(batch, name)
        await EventOutbox.update({EventOutbox.published_at: datetime.now(UTC)}).where(
            EventOutbox.id.is_in([row["id"] for row in rows])
        )
    return len(rows)


def _event(row: EventOutbox) -> Event:
    return Event(row.id, row.event_type, row.tenant_id, row.payload, row.occurred_at)


async def load_event(event_id: uuid.UUID) -> Event | None:
    row = (
        await EventOutbox.objects().where(EventOutbox.id == event_id).output(load_json=True).first()
    )
    return _event(row) if row is not None else None


def _scope(tenant_id: uuid.UUID | None) -> Any:
    return tenant_scope(tenant_id) if tenant_id is not None else transaction()


async def handle(event_id: uuid.UUID, consumer_name: str) -> bool:
    """Run one consumer for one event once; returns False if it had already run."""
    event = await load_event(event_id)
    if event is None:
        log.warning("event %s not found", event_id)
        return False
    fn = consumers_for(event.event_type).get(consumer_name)
    if fn is None:
        return False
    async with _scope(event.tenant_id):
        done = await EventConsumption.exists().where(
            (EventConsumption.consumer == consumer_name) & (EventConsumption.event_id == event_id)
        )
        if done:
            return False
        await EventConsumption.insert(EventConsumption(consumer=consumer_name, event_id=event_id))
        await fn(event)
    return True


async def handle_batch(event_ids: list[uuid.UUID], consumer_name: str) -> list[uuid.UUID]:
    """Run one consumer for many events, the events of one dealer in one transaction (their
    consumption records with them), skipping those it already ran. Returns the ids of the
    events whose transaction failed, rolled back whole: the caller hands each on alone."""
    rows = await EventOutbox.select(  # plain rows: Piccolo instances cost more than the work
        EventOutbox.id, EventOutbox.event_type, EventOutbox.tenant_id, EventOutbox.payload,
        EventOutbox.occurred_at).where(EventOutbox.id.is_in(event_ids)).output(load_json=True)
    done = {row["event_id"] for row in await EventConsumption.select(
        EventConsumption.event_id).where((EventConsumption.consumer == consumer_name)
                                         & EventConsumption.event_id.is_in(event_ids))}
    by_tenant: dict[uuid.UUID | None, list[tuple[Event, Consumer]]] = {}
    for row in sorted(rows, key=lambda r: r["occurred_at"]):
        fn = consumers_for(row["event_type"]).get(consumer_name)
        if fn is not None and row["id"] not in done:
            by_tenant.setdefault(row["tenant_id"], []).append((Event(**row), fn))
    failed: list[uuid.UUID] = []
    for tenant_id, group in by_tenant.items():
        try:
            async with _scope(tenant_id):
                await insert_rows((EventConsumption, [  # id and created_at: the DB's defaults
                    {"consumer": consumer_name, "event_id": event.id} for event, _ in group]))
                batch = _batch_forms.get(consumer_name)
                if batch is not None:
                    await batch([event for event, _ in group])
                else:
                    for event, fn in group:
                        await fn(event)
        except Exception:
            log.warning("consumer %s failed on a batch of %d events; handing them on one by "
                        "one", consumer_name, len(group), exc_info=True)
            failed += [event.id for event, _ in group]
    return failed


@actor("events.deliver", max_retries=8)
async def deliver(event_id: str, consumer_name: str) -> None:
    await handle(uuid.UUID(event_id), consumer_name)


@actor("events.deliver_batch", max_retries=8)
async def deliver_batch(event_ids: list[str], consumer_name: str) -> None:
    """One consumer's events (the relay's usual shape). The events of a transaction that
    failed go on one by one as `events.deliver`, each with its own retries, so a failing
    event neither holds up nor uses up the retries of the others."""
    for event_id in await handle_batch([uuid.UUID(value) for value in event_ids],
                                       consumer_name):
        deliver.send(str(event_id), consumer_name)
