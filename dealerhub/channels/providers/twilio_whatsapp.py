"""WhatsApp through Twilio's Messages API (`whatsapp:` addresses)."""

from __future__ import annotations

from typing import ClassVar

from dealerhub.channels.providers.twilio_sms import TwilioSmsChannel


class TwilioWhatsAppChannel(TwilioSmsChannel):
    medium = "whatsapp"
    label: ClassVar[dict[str, str]] = {"en": "WhatsApp (Twilio)", "zh-CN": "WhatsApp（Twilio）"}
    prefix = "whatsapp:"
