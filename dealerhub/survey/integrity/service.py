"""Flags on answers that look staged, for headquarters to review. Flagged answers are
kept but shown apart from the results."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import require_tenant
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.triggers.tables import Invitation

FLAGS = ("shared_phone", "dealer_network", "dealer_device", "advisor_cluster", "solicited")
NETWORK_WINDOW = timedelta(days=30)
CLUSTER_WINDOW = timedelta(days=7)
CLUSTER_SIZE = 5
STAFF_IPS_CACHE_SECONDS = 60.0
SOLICITING = re.compile(
    r"满分|五星|5星|好评|十分|10分|打高分|给个?高分|top score|full marks|five stars|"
    r"asked (me )?(to give|for) (a )?(10|5|top|full)", re.IGNORECASE)


@dataclass(frozen=True)
class Submission:
    """Where an answer came from: the channel, the client address, a staff session."""

    channel: str = "web"
    client_ip: str = ""
    staff_session: bool = False


_staff_ips: dict[uuid.UUID, tuple[float, frozenset[str]]] = {}


async def _dealer_network(client_ip: str, now: datetime) -> bool:
    """The address was used by this dealer's signed-in staff in the last 30 days (the set
    of addresses is re-read at most once a minute per dealer)."""
    if not client_ip:
        return False
    tid = require_tenant()
    cached = _staff_ips.get(tid)
    if cached is None or time.monotonic() - cached[0] > STAFF_IPS_CACHE_SECONDS:
        rows = await AuditLog.select(AuditLog.ip).where(
            (AuditLog.tenant_id == tid) & (AuditLog.user_id.is_not_null())
            & (AuditLog.at >= now - NETWORK_WINDOW)).distinct()
        cached = (time.monotonic(), frozenset(row["ip"] for row in rows if row["ip"]))
        _staff_ips[tid] = cached
    return client_ip in cached[1]


async def _advisor_cluster(invitation: Invitation, scores: list[int], now: datetime) -> bool:
    """Perfect scores for one advisor piling up: this one perfect, and 5+ perfect in 7 days."""
    if invitation.advisor_staff_id is None or not scores or min(scores) < 100:
        return False
    recent = await Invitation.select_in_tenant(Invitation.id).where(
        Invitation.advisor_staff_id == invitation.advisor_staff_id,
        Invitation.status.is_in(["partial", "answered"]),
        Invitation.sent_at >= now - CLUSTER_WINDOW, Invitation.id != invitation.id)
    ids = [row["id"] for row in recent]
    if len(ids) < CLUSTER_SIZE - 1:
        return False
    imperfect = {row["invitation_id"] for row in await Answer.select_in_tenant(
        Answer.invitation_id).where(Answer.invitation_id.is_in(ids), Answer.score < 100)}
    return len(set(ids) - imperfect) >= CLUSTER_SIZE - 1


async def flags_for(invitation: Invitation, shares_phone: bool, scores: list[int],
                    texts: list[str], source: Submission, now: datetime) -> list[str]:
    """The integrity flags of one submission (inside the tenant scope); `shares_phone`:
    the customer's phone is on another customer too (read with the invitation)."""
    found = []
    if shares_phone:
        found.append("shared_phone")
    if source.channel == "web" and await _dealer_network(source.client_ip, now):
        found.append("dealer_network")
    if source.staff_session:
        found.append("dealer_device")
    if await _advisor_cluster(invitation, scores, now):
        found.append("advisor_cluster")
    if any(SOLICITING.search(text) for text in texts):
        found.append("solicited")
    return found
