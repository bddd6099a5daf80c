"""The generic outbound webhook channel: the rendered message is POSTed, signed per
Standard Webhooks, to the dealer's own gateway; its status callbacks are signed the same way."""

from __future__ import annotations

from typing import ClassVar

from standardwebhooks.webhooks import WebhookVerificationError

from dealerhub.channels.plugin import (
    MEDIA,
    CallbackEvent,
    CallbackRejected,
    Channel,
    ConfigField,
    InboundRequest,
    OutboundMessage,
    PermanentFailure,
    TemporaryFailure,
)
from dealerhub.channels.webhooks import http

STATUSES = {"delivered": "delivered", "failed": "failed", "bounced": "bounced", "sent": "sent"}


class WebhookChannel(Channel):
    medium = "sms"
    label: ClassVar[dict[str, str]] = {
        "en": "Webhook (your own gateway)", "zh-CN": "Webhook（自有网关）"}
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("url", "Gateway URL"),
        ConfigField("secret", "Signing secret (whsec_…)", secret=True),
        ConfigField("medium", "Carries (sms, email, voice, whatsapp, wechat)", required=False),
    )

    @classmethod
    def medium_for(cls, config: dict[str, str]) -> str:
        chosen = config.get("medium") or cls.medium
        return chosen if chosen in MEDIA else cls.medium

    async def send(self, message: OutboundMessage) -> str:
        payload = {"type": "message.send", "data": {
            "id": message.message_id, "to": message.to, "subject": message.subject,
            "body": message.body, "html": message.html, "sender": message.sender,
            "callback_url": message.callback_url, "locale": message.locale}}
        result = await http.signed_post(self.config["url"], self.config["secret"],
                                        message.message_id, payload)
        if result.ok:
            return message.message_id
        reason = result.error or f"gateway answered {result.status_code}"
        if result.status_code in (408, 429) or result.status_code is None \
                or result.status_code >= 500:
            raise TemporaryFailure(reason, result.retry_after)
        raise PermanentFailure(reason)

    def verify_callback(self, request: InboundRequest) -> None:
        try:
            http.verify(self.config["secret"], request.body, request.headers)
        except WebhookVerificationError as error:
            raise CallbackRejected(f"webhook signature: {error}") from None

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        import json

        try:
            document = json.loads(request.body)
            kind, data = document["type"], document["data"]
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("body must be JSON with type and data") from None
        if kind == "message.status" and data.get("status") in STATUSES:
            return [CallbackEvent("status", str(data.get("id")), STATUSES[data["status"]],
                                  detail=str(data.get("detail", ""))[:200])]
        if kind == "message.reply" and data.get("from"):
            return [CallbackEvent("reply", request.header("webhook-id"),
                                  from_address=str(data["from"]), text=str(data.get("text", "")))]
        raise CallbackRejected(f"unknown callback type {kind!r}")
