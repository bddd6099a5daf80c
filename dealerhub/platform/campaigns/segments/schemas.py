"""Segment requests and responses: a definition is a list of rules, all of which hold."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from dealerhub.platform.web.api import StrictStruct


class Rule(StrictStruct):
    field: str
    op: str
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None
    value: bool | None = None


class SegmentDefinition(StrictStruct):
    rules: list[Rule] = msgspec.field(default_factory=list)


class SegmentWrite(StrictStruct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    definition: SegmentDefinition


class SegmentRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    definition: dict[str, Any]
    created_at: datetime
    count: int | None = None


class SegmentCount(msgspec.Struct):
    count: int
