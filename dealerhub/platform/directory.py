"""What the core knows about a dealer: whom to tell (its admins, and the OEM regional
managers of its region: DOMAIN.md, escalations and anomalies reach both at once), and its
time zone (local days, quiet hours and date filters are the dealer's, not UTC)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from zoneinfo import ZoneInfo

from dealerhub.platform.tables import AppUser, Dealer

REGIONAL_MANAGER = "oem_regional_manager"


async def dealer_admins(dealer_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await AppUser.select(AppUser.id).where(
        (AppUser.dealer == dealer_id) & (AppUser.role == "dealer_admin")
        & (AppUser.is_active == True))  # noqa: E712
    return [row["id"] for row in rows]


async def regional_managers(dealer_id: uuid.UUID) -> list[uuid.UUID]:
    dealer = await Dealer.select(Dealer.region).where(Dealer.id == dealer_id).first()
    if dealer is None or dealer["region"] is None:
        return []
    rows = await AppUser.select(AppUser.id).where(
        (AppUser.role == REGIONAL_MANAGER) & (AppUser.region == dealer["region"])
        & (AppUser.dealer.is_null()) & (AppUser.is_active == True))  # noqa: E712
    return [row["id"] for row in rows]


@lru_cache(maxsize=10_000)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


async def dealer_zone(dealer_id: uuid.UUID) -> ZoneInfo:
    row = await Dealer.select(Dealer.time_zone).where(Dealer.id == dealer_id).first()
    return _zone(row["time_zone"] if row else "Asia/Shanghai")


async def for_every_dealer(work: Callable[[uuid.UUID], Awaitable[int]],
                           say: Callable[[str, int], None]) -> int:
    """A one-off per-dealer task (a key rotation, a backfill) for every dealer in code
    order; `say(dealer code, count)` reports each. Returns the sum of the counts."""
    total = 0
    for dealer in await Dealer.select(Dealer.id, Dealer.code).order_by(Dealer.code):
        count = await work(dealer["id"])
        say(dealer["code"], count)
        total += count
    return total
