"""The send decision, made once, before any channel is called: consent for the purpose,
the customer's preferred channel, fallbacks, quiet hours and the weekly frequency cap.

Pure functions over plain values, so every rule is testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dealerhub.channels.credentials.service import CONSOLE, Account

FALLBACK_ORDER = ("sms", "email", "whatsapp", "wechat", "voice")
QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
MARKETING_PER_WEEK = 3
PHONE_MEDIA = frozenset({"sms", "voice", "whatsapp"})


@dataclass(frozen=True)
class Route:
    medium: str
    channel: str
    address: str

    def as_list(self) -> list[str]:
        return [self.medium, self.channel, self.address]


@dataclass(frozen=True)
class Decision:
    status: str  # "queued" | "suppressed"
    reason: str
    routes: list[Route] = field(default_factory=list)
    not_before: datetime | None = None


def address_for(medium: str, profile: Any) -> str | None:
    if medium in PHONE_MEDIA:
        return profile.phone_e164 or None
    if medium == "email":
        return profile.email or None
    if medium == "wechat":
        return profile.wechat_id or None
    return None


def consent_refusal(purpose: str, consents: dict[str, dict[str, bool]]) -> str | None:
    """An opt-out on any channel stops the purpose on every channel; marketing needs an opt-in."""
    given = consents.get(purpose) or {}
    if any(value is False for value in given.values()):
        return "no consent"
    if purpose == "marketing" and not any(given.values()):
        return "no consent"
    return None


def media_order(requested: str | None, preferred: str | None) -> list[str]:
    if requested:
        return [requested]
    order = [preferred] if preferred in FALLBACK_ORDER else []
    return order + [medium for medium in FALLBACK_ORDER if medium not in order]


def plan_routes(media: list[str], profile: Any, accounts: dict[str, list[Account]]) -> list[Route]:
    """Every (medium, channel, address) to try, in order. With no channel configured at all
    the console channel stands in (the embedded default)."""
    routes: list[Route] = []
    addressable: list[tuple[str, str]] = []
    for medium in media:
        address = address_for(medium, profile)
        if not address:
            continue
        addressable.append((medium, address))
        routes += [Route(medium, account.channel, address) for account in accounts.get(medium, [])]
    if not routes and addressable and not any(accounts.values()):
        medium, address = addressable[0]
        routes.append(Route(medium, CONSOLE, address))
    return routes


def quiet_hours_end(at: datetime, time_zone: str) -> datetime | None:
    """If `at` falls in the dealer's quiet hours (21:00–08:00 local), when they end (UTC)."""
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone).astimezone(at.tzinfo)


def staff_routes(contact: Any, media: tuple[str, ...],
                 accounts: dict[str, list[Account]]) -> list[list[Route]]:
    """A message to the dealer's own staff goes on every medium asked for that reaches them
    (an alert should be seen, not fall back quietly): one message per medium, each with its
    own fallback accounts. No consent rules or frequency cap apply to staff."""
    return [routes for medium in media if (routes := plan_routes([medium], contact, accounts))]


def staff_not_before(now: datetime, urgent: bool, time_zone: str) -> datetime:
    """Quiet hours hold a staff message unless it is urgent."""
    return now if urgent else quiet_hours_end(now, time_zone) or now


def decide(
    *, purpose: str, profile: Any, requested: str | None, accounts: dict[str, list[Account]],
    now: datetime, not_before: datetime | None, time_zone: str, sent_this_week: int,
) -> Decision:
    if profile.erased:
        return Decision("suppressed", "customer erased")
    refusal = consent_refusal(purpose, profile.consents or {})
    if refusal:
        return Decision("suppressed", refusal)
    routes = plan_routes(media_order(requested, profile.preferred_channel), profile, accounts)
    if not routes:
        return Decision("suppressed", "no reachable channel")
    if purpose == "marketing" and sent_this_week >= MARKETING_PER_WEEK:
        return Decision("suppressed", "frequency cap", routes)
    start = max(now, not_before) if not_before else now
    if purpose == "marketing":
        deferred = quiet_hours_end(start, time_zone)
        if deferred is not None:
            return Decision("queued", "quiet hours → deferred", routes, deferred)
    return Decision("queued", "", routes, start)
