"""Import request/response types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from dealerhub.platform.web.api import StrictStruct


class BulkImport(StrictStruct):
    rows: list[dict[str, Any]]


class ImportRowErrorRead(msgspec.Struct):
    row_number: int
    field: str
    reason: str


class ImportRead(msgspec.Struct):
    id: uuid.UUID
    kind: str
    source: str
    filename: str
    status: str
    progress_percent: int
    processed_rows: int
    applied_rows: int
    error_rows: int
    file_error: str | None
    created_at: datetime
    finished_at: datetime | None
    errors: list[ImportRowErrorRead] = msgspec.field(default_factory=list)
