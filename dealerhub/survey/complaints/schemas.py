"""Complaint request and response types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from dealerhub.platform.web.api import StrictStruct
from dealerhub.survey.complaints.tables import Complaint


class ComplaintCreate(StrictStruct):
    customer_id: uuid.UUID
    verbatim: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    severity: str = "normal"


class ComplaintRead(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    source: str
    severity: str
    status: str
    verbatim: str
    opened_at: datetime
    interim_due_at: datetime
    interim_answered_at: datetime | None
    resolved_at: datetime | None
    callback_due_at: datetime | None
    callback_at: datetime | None
    confirmed_at: datetime | None
    escalated_at: datetime | None
    gm_reviewed_at: datetime | None
    recovered: bool | None


def complaint_read(row: Complaint) -> ComplaintRead:
    return ComplaintRead(
        id=row.id, customer_id=row.customer_id, source=row.source, severity=row.severity,
        status=row.status, verbatim=row.verbatim, opened_at=row.opened_at,
        interim_due_at=row.interim_due_at, interim_answered_at=row.interim_answered_at,
        resolved_at=row.resolved_at, callback_due_at=row.callback_due_at,
        callback_at=row.callback_at, confirmed_at=row.confirmed_at,
        escalated_at=row.escalated_at, gm_reviewed_at=row.gm_reviewed_at,
        recovered=row.recovered)
