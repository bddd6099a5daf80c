"""Signed customer links: manage (confirm, reschedule, cancel) one appointment, or book
one for a vehicle, without logging in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dealerhub.platform.links import LinkInvalid, read_link, sign_link

PURPOSE = "appointment"
MANAGE_MAX_AGE = 60 * 86400
BOOK_MAX_AGE = 30 * 86400
CUSTOMER_BASE = "/c/appointments"


@dataclass(frozen=True)
class LinkTarget:
    tenant_id: uuid.UUID
    appointment_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None


def manage_token(tenant_id: uuid.UUID, appointment_id: uuid.UUID) -> str:
    return sign_link(PURPOSE, {"k": "manage", "t": str(tenant_id), "a": str(appointment_id)})


def book_token(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> str:
    return sign_link(PURPOSE, {"k": "book", "t": str(tenant_id), "v": str(vehicle_id)})


def manage_path(tenant_id: uuid.UUID, appointment_id: uuid.UUID, action: str = "") -> str:
    suffix = f"/{action}" if action else ""
    return f"{CUSTOMER_BASE}/{manage_token(tenant_id, appointment_id)}{suffix}"


def book_path(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> str:
    return f"{CUSTOMER_BASE}/book/{book_token(tenant_id, vehicle_id)}"


def read_target(token: str, kind: str) -> LinkTarget:
    """The dealer and object a token names; raises LinkExpired / LinkInvalid."""
    data = read_link(PURPOSE, token, MANAGE_MAX_AGE if kind == "manage" else BOOK_MAX_AGE)
    if data.get("k") != kind:
        raise LinkInvalid("this link is not valid")
    try:
        tenant_id = uuid.UUID(str(data["t"]))
        if kind == "manage":
            return LinkTarget(tenant_id, appointment_id=uuid.UUID(str(data["a"])))
        return LinkTarget(tenant_id, vehicle_id=uuid.UUID(str(data["v"])))
    except (KeyError, ValueError):
        raise LinkInvalid("this link is not valid") from None
