"""A third-party channel: it knows dealerhub only through the plugin API."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar

from dealerhub.channels.plugin import (
    CallbackEvent,
    CallbackRejected,
    Channel,
    ConfigField,
    InboundRequest,
    OutboundMessage,
    PermanentFailure,
)

FLOWN: list[OutboundMessage] = []


class PigeonChannel(Channel):
    medium = "sms"
    label: ClassVar[dict[str, str]] = {"en": "Carrier pigeon", "zh-CN": "信鸽"}
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("loft", "Home loft"),
        ConfigField("ring_key", "Ring key", secret=True),
    )

    async def send(self, message: OutboundMessage) -> str:
        if message.to.startswith("no-loft"):
            raise PermanentFailure("no loft at that address")
        FLOWN.append(message)
        return f"pigeon-{message.message_id}"

    def verify_callback(self, request: InboundRequest) -> None:
        expected = hmac.new(self.config["ring_key"].encode(), request.body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.header("X-Pigeon-Signature") or ""):
            raise CallbackRejected("bad ring")

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        data = json.loads(request.body)
        return [CallbackEvent("status", data["id"], data["status"])]
