"""Staff request/response types."""

from __future__ import annotations

import uuid

import msgspec

from dealerhub.platform.web.api import StrictStruct


class StaffCreate(StrictStruct):
    name: str
    kind: str
    user_id: uuid.UUID | None = None
    phone: str | None = None
    external_id: str | None = None


class StaffUpdate(StrictStruct):
    active: bool


class StaffRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    user_id: uuid.UUID | None
    phone_e164: str | None
    active: bool
    customers: int = 0
