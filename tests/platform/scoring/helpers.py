"""Feeding hand-built events to the scoring consumer, as the relay would deliver them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dealerhub.platform import events
from dealerhub.platform.scoring import tasks
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope


# 04:00 UTC is noon in Shanghai: far from either day boundary.
def at(year: int, month: int, day: int, hour: int = 4) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def emit(
    dealer_id: uuid.UUID, event_type: str, payload: dict[str, Any] | None = None, **fields: Any
) -> uuid.UUID:
    """Write a hand-built event, marked published so that no relay hands it to other
    components' consumers (it carries only what scoring reads)."""
    async with tenant_scope(dealer_id):
        event_id = await events.emit(event_type, {**(payload or {}), **fields})
        await EventOutbox.update({EventOutbox.published_at: datetime.now(UTC)}).where(
            EventOutbox.id == event_id
        )
    return event_id


async def feed(
    dealer_id: uuid.UUID, event_type: str, payload: dict[str, Any] | None = None, **fields: Any
) -> uuid.UUID:
    """Emit and deliver one event to the facts consumer; returns its id."""
    event_id = await emit(dealer_id, event_type, payload, **fields)
    assert await events.handle(event_id, tasks.CONSUMER)
    return event_id


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
