"""WeChat template messages over HTTP (the official-account template message API, also
used by WeCom-linked service accounts): an access token per app, then one template send.
Delivery receipts (TEMPLATESENDJOBFINISH) and replies arrive as signed XML callbacks.

Callbacks come plain (`signature` over token, timestamp, nonce) or, when an EncodingAESKey
is configured, encrypted (WeCom and the official account's safe mode: `msg_signature` also
covers the ciphertext, AES-256-CBC with the key's first 16 bytes as IV, PKCS#7 to 32 bytes,
plaintext = 16 random bytes, 4-byte length, message, receiver id). Registering the callback
URL is a GET carrying `echostr` that must be answered with its (decrypted) value."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

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


MAX_CLOCK_SKEW = 600


def wechat_signature(token: str, timestamp: str, nonce: str, *encrypted: str) -> str:
    """`signature` (plain mode), or `msg_signature` when the ciphertext is passed too."""
    parts = sorted([token, timestamp, nonce, *encrypted])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise CallbackRejected("the EncodingAESKey is not 43 base64 characters")
    return key


def decrypt(encoding_aes_key: str, ciphertext: str, receiver_id: str) -> str:
    """The plaintext of an encrypted callback part; CallbackRejected if it does not open or
    was meant for another receiver (corp id / app id)."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(ciphertext, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= 32 or padded[-pad:] != bytes([pad]) * pad:
            raise ValueError("padding")
        plain = padded[16:-pad]
        (length,) = struct.unpack(">I", plain[:4])
        message, receiver = plain[4:4 + length], plain[4 + length:]
        text = message.decode()
    except (ValueError, struct.error, UnicodeDecodeError, binascii.Error):
        raise CallbackRejected("the encrypted part does not decrypt") from None
    if receiver_id and receiver.decode(errors="replace") != receiver_id:
        raise CallbackRejected("the encrypted part is for another receiver")
    return text


def _query(request: InboundRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


def _xml_fields(body: bytes | str) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise CallbackRejected("body is not XML") from None
    return {child.tag: (child.text or "") for child in root}


class WeChatTemplateChannel(Channel):
    medium = "wechat"
    label: ClassVar[dict[str, str]] = {"en": "WeChat template message", "zh-CN": "微信模板消息"}
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("app_id", "AppID"),
        ConfigField("app_secret", "AppSecret", secret=True),
        ConfigField("template_id", "Template ID"),
        ConfigField("callback_token", "Callback token", secret=True, required=False),
        ConfigField("encoding_aes_key", "EncodingAESKey (encrypted callbacks)", secret=True,
                    required=False),
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

    def _signed(self, query: dict[str, str], *encrypted: str) -> None:
        """Raise unless the query's signature is the callback token's (and fresh)."""
        token = self.config.get("callback_token")
        if not token:
            raise CallbackRejected("no callback token is configured")
        name = "msg_signature" if encrypted else "signature"
        expected = wechat_signature(token, query.get("timestamp", ""), query.get("nonce", ""),
                                    *encrypted)
        if not hmac.compare_digest(expected, query.get(name, "")):
            raise CallbackRejected(f"{name} does not match")
        try:
            stamp = int(query.get("timestamp") or 0)
        except ValueError:
            raise CallbackRejected("timestamp is not a number") from None
        if abs(time.time() - stamp) > MAX_CLOCK_SKEW:
            raise CallbackRejected("timestamp is too old")

    def _encrypted(self, query: dict[str, str]) -> bool:
        if "msg_signature" not in query:
            return False
        if not self.config.get("encoding_aes_key"):
            raise CallbackRejected("an encrypted callback, but no EncodingAESKey is configured")
        return True

    def answer_handshake(self, request: InboundRequest) -> str:
        query = _query(request)
        echo = query.get("echostr")
        if not echo:
            raise CallbackRejected("echostr is missing")
        if not self._encrypted(query):
            self._signed(query)
            return echo
        self._signed(query, echo)
        return decrypt(self.config["encoding_aes_key"], echo, self.config["app_id"])

    def _message(self, request: InboundRequest) -> dict[str, str]:
        """The callback's XML fields, opened first when it came encrypted."""
        fields = _xml_fields(request.body)
        if self._encrypted(_query(request)):
            inner = decrypt(self.config["encoding_aes_key"], fields.get("Encrypt", ""),
                            self.config["app_id"])
            return _xml_fields(inner.encode())
        return fields

    def verify_callback(self, request: InboundRequest) -> None:
        query = _query(request)
        if self._encrypted(query):
            self._signed(query, _xml_fields(request.body).get("Encrypt", ""))
        else:
            self._signed(query)

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        field = self._message(request)
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


