"""Question bank request and response types."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from dealerhub.platform.web.api import StrictStruct


class ChoiceOption(StrictStruct):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    negative: bool = False


class QuestionWrite(StrictStruct):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]
    kind: str
    step: str
    text_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    text_en: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    role: str = ""
    choices: list[ChoiceOption] = msgspec.field(default_factory=list)
    weight: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


class QuestionRead(msgspec.Struct):
    id: uuid.UUID
    key: str
    version: int
    kind: str
    step: str
    role: str
    text_zh: str
    text_en: str
    choices: list[dict[str, object]]
    weight: int
    status: str
    local: bool
