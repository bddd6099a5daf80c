"""A voice call through Twilio that reads the message aloud (TwiML <Say>)."""

from __future__ import annotations

from typing import ClassVar

from twilio.twiml.voice_response import VoiceResponse

from dealerhub.channels.plugin import OutboundMessage
from dealerhub.channels.providers._twilio import TwilioChannel, twilio_client

VOICE_LANGUAGE = {"zh-CN": "cmn-CN", "en": "en-US"}


def twiml_for(text: str, locale: str) -> str:
    response = VoiceResponse()
    response.say(text, language=VOICE_LANGUAGE.get(locale, "cmn-CN"))
    return str(response)


class TwilioVoiceChannel(TwilioChannel):
    medium = "voice"
    label: ClassVar[dict[str, str]] = {"en": "Voice call (Twilio)", "zh-CN": "语音电话（Twilio）"}

    async def send(self, message: OutboundMessage) -> str:
        client = twilio_client(self.config)
        return await self._create(
            message.message_id,
            client.calls.create_async,
            to=message.to, from_=self._from(message.sender),
            twiml=twiml_for(message.body, message.locale),
            status_callback=message.callback_url,
            status_callback_event=["completed"],
        )
