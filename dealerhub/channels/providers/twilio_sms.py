"""SMS through Twilio's Messages API."""

from __future__ import annotations

from typing import ClassVar

from dealerhub.channels.plugin import OutboundMessage
from dealerhub.channels.providers._twilio import TwilioChannel, twilio_client


class TwilioSmsChannel(TwilioChannel):
    medium = "sms"
    label: ClassVar[dict[str, str]] = {"en": "SMS (Twilio)", "zh-CN": "短信（Twilio）"}
    prefix = ""

    async def send(self, message: OutboundMessage) -> str:
        client = twilio_client(self.config)
        return await self._create(
            message.message_id,
            client.messages.create_async,
            to=f"{self.prefix}{message.to}", from_=f"{self.prefix}{self._from(message.sender)}",
            body=message.body, status_callback=message.callback_url,
        )
