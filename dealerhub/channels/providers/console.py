"""The console/outbox channel: the embedded default. The rendered message is already stored
on the message row; this channel logs it and reports it sent, so a demo needs no provider."""

from __future__ import annotations

import logging
from typing import ClassVar

from dealerhub.channels.plugin import Channel, OutboundMessage

log = logging.getLogger("dealerhub.channels.console")


class ConsoleChannel(Channel):
    medium = "sms"
    label: ClassVar[dict[str, str]] = {
        "en": "Console (stored, not sent)", "zh-CN": "控制台（仅存储，不发送）"}

    async def send(self, message: OutboundMessage) -> str:
        log.info("console message %s to %s: %s", message.message_id, message.to,
                 message.subject or message.body[:60])
        return f"console-{message.message_id}"
