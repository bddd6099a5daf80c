"""Channel settings as the API sees them: secrets go in, never come out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from dealerhub.platform.web.api import StrictStruct


class ConfigFieldRead(msgspec.Struct):
    name: str
    label: str
    secret: bool
    required: bool


class PluginRead(msgspec.Struct):
    name: str
    medium: str
    label: str
    module: str
    built_in: bool
    oem_account: bool
    fields: list[ConfigFieldRead]


class AccountSave(StrictStruct):
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    enabled: bool = True
    sender: Annotated[str, msgspec.Meta(max_length=200)] = ""
    priority: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 100
    settings: dict[str, str] = msgspec.field(default_factory=dict)


class AccountRead(msgspec.Struct):
    channel: str
    enabled: bool
    sender: str
    configured_fields: list[str]
    updated_at: datetime | None
