"""WeChat template messages over HTTP (the official-account template message API, also
used by WeCom-linked service accounts): an access token per app, then one template send.
Delivery receipts (TEMPLATESENDJOBFINISH) and replies arrive as signed XML callbacks."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, ClassVar
from xml.etree import ElementTree

import httpx

from dealerhub.channels.plugin import (
    PROVIDER_TIMEOUT_SECONDS,
    CallbackEvent,
    CallbackRejected,
    Channel,
    ConfigField,
    InboundRequest,
    OutboundMessage,
    PermanentFailure,
    TemporaryFailure,
)

WECHAT_API = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
PERMANENT_ERRORS = frozenset({40003, 40037, 43004, 43101, 47003})
_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


class WeChatTemplateChannel(Channel):
    medium = "wechat"
    label: ClassVar[dict[str, str]] = {"en": "WeChat template message", "zh-CN": "微信模板消息"}
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("app_id", "AppID"),
        ConfigField("app_secret", "AppSecret", secret=True),
        ConfigField("template_id", "Template ID"),
        ConfigField("callback_token", "Callback token", secret=True, required=False),
        ConfigField("api_base_url", "API base URL (blank: api.weixin.qq.com)", required=False),
    )

    @property
    def base(self) -> str:
        return (self.config.get("api_base_url") or WECHAT_API).rstrip("/")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=PROVIDER_TIMEOUT_SECONDS) as client:
                response = await client.request(method, self.base + path, **kwargs)
        except httpx.HTTPError as error:
            raise TemporaryFailure(f"WeChat unreachable: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise TemporaryFailure(f"WeChat answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise TemporaryFailure("WeChat answered something that is not JSON") from None

    async def _token(self, refresh: bool = False) -> str:
        key = (self.base, self.config["app_id"])
        cached = _tokens.get(key)
        if cached and not refresh and cached[1] > time.time():
            return cached[0]
        answer = await self._call("GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.config["app_id"],
            "secret": self.config["app_secret"]})
        if "access_token" not in answer:
            raise PermanentFailure(f"WeChat token refused: {answer.get('errcode')} "
                                   f"{answer.get('errmsg', '')}"[:300])
        lifetime = int(answer.get("expires_in", 7200)) - 300
        _tokens[key] = (answer["access_token"], time.time() + lifetime)
        return answer["access_token"]

    async def send(self, message: OutboundMessage) -> str:
        body = {"touser": message.to, "template_id": self.config["template_id"],
                "client_msg_id": message.message_id,
                "data": {"first": {"value": message.subject or ""},
                         "content": {"value": message.body}}}
        for attempt in range(2):
            token = await self._token(refresh=attempt > 0)
            answer = await self._call("POST", "/cgi-bin/message/template/send",
                                      params={"access_token": token}, json=body)
            code = int(answer.get("errcode", -1))
            if code == 0:
                return str(answer["msgid"])
            if code not in TOKEN_ERRORS:
                break
        text = f"WeChat error {code}: {answer.get('errmsg', '')}"[:300]
        if code in PERMANENT_ERRORS:
            raise PermanentFailure(text)
        raise TemporaryFailure(text)

    def verify_callback(self, request: InboundRequest) -> None:
        from urllib.parse import parse_qs, urlparse

        token = self.config.get("callback_token")
        if not token:
            raise CallbackRejected("no callback token is configured")
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        expected = wechat_signature(token, query.get("timestamp", ""), query.get("nonce", ""))
        if not hmac.compare_digest(expected, query.get("signature", "")):
            raise CallbackRejected("signature does not match")
        if abs(time.time() - int(query.get("timestamp") or 0)) > 600:
            raise CallbackRejected("timestamp is too old")

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        try:
            root = ElementTree.fromstring(request.body)
        except ElementTree.ParseError:
            raise CallbackRejected("body is not XML") from None
        field = {child.tag: (child.text or "") for child in root}
        if field.get("MsgType") == "event" and field.get("Event") == "TEMPLATESENDJOBFINISH":
            status = "delivered" if field.get("Status") == "success" else "failed"
            return [CallbackEvent("status", field.get("MsgID"), status,
                                  detail=field.get("Status", ""))]
        if field.get("MsgType") == "text" and field.get("FromUserName"):
            return [CallbackEvent("reply", field.get("MsgId"), from_address=field["FromUserName"],
                                  text=field.get("Content", ""))]
        return []

    def callback_response(self) -> tuple[str, str]:
        return "success", "text/plain"


