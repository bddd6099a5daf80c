"""The console/outbox channel: the embedded default. The rendered message is already stored
on the message row (the portal's message pages show it); this channel logs that it "sent"
it and reports it sent, so a demo needs no provider. The body is not logged: it carries
names and signed links, and the redacting log filter cannot recognise a name."""

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
        log.info("console message %s to %s (%d characters)", message.message_id, message.to,
                 len(message.body))
        return f"console-{message.message_id}"
