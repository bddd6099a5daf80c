"""What the survey sub-modules share: time, field errors and the per-dealer loop."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from dealerhub.platform.tables import Dealer
from dealerhub.tenants.fields import FieldError, InvalidInput

log = logging.getLogger(__name__)
TEXT_MAX = 2000


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def invalid(field: str, reason: str) -> InvalidInput:
    return InvalidInput([FieldError(field, reason)])


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


async def each_dealer(work: Callable[[uuid.UUID, datetime], Awaitable[int]],
                      now: datetime | None = None) -> int:
    """Run `work(dealer_id, now)` for every active dealer; one failure does not stop the rest."""
    now = now or utcnow()
    done = 0
    for dealer in await Dealer.select(Dealer.id).where(Dealer.status == "active"):
        try:
            done += await work(dealer["id"], now)
        except Exception:
            log.exception("survey work %s for dealer %s failed", work.__name__, dealer["id"])
    return done
