"""The customer's timeline: one extension point every component adds its entries through.

A source is `async fn(tenant_id, customer_id, limit) -> list[TimelineEntry]`; `timeline`
merges all of them, newest first. The 360 page shows the result.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    href: str | None = None
    status: str | None = None


TimelineSource = Callable[[uuid.UUID, uuid.UUID, int], Awaitable[list[TimelineEntry]]]
_sources: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add (or replace, by name) a source of timeline entries."""
    _sources[name] = source


def _sort_key(entry: TimelineEntry) -> datetime:
    return entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)


async def timeline(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                   limit: int = 100) -> list[TimelineEntry]:
    """Every source's entries for one customer, newest first; a failing source is logged
    and left out rather than breaking the page."""
    entries: list[TimelineEntry] = []
    for name, source in list(_sources.items()):
        try:
            entries.extend(await source(tenant_id, customer_id, limit))
        except Exception:
            log.exception("timeline source %s failed", name)
    entries.sort(key=_sort_key, reverse=True)
    return entries[:limit]
