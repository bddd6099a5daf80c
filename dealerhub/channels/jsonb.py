"""JSONB columns come back parsed from PostgreSQL but as text from SQLite: read them here."""

from __future__ import annotations

import json
from typing import Any


def loaded(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, str | bytes):
        return json.loads(value) if value else default
    return value
