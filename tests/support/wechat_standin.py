"""A local stand-in for the WeChat official-account API: access tokens and template sends,
answering as the public API reference describes (`errcode`/`errmsg`, `msgid`); and the
platform's side of encrypted callbacks (`encrypt`), written from WeCom's published
callback encryption scheme, so the tests produce what WeChat/WeCom would send."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import struct
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.support.http_server import LocalServer


class WeChatStandIn(LocalServer):
    def __init__(self, apps: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apps = dict(apps or {})  # appid -> secret
        self.tokens: set[str] = set()
        self.blocked: set[str] = set()  # openids that unfollowed (43004)
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(200228332)

    def add_app(self) -> tuple[str, str]:
        app_id, secret = "wx" + secrets.token_hex(8), secrets.token_hex(16)
        self.apps[app_id] = secret
        return app_id, secret

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/template/send", self._send)

    async def _token(self, request: web.Request) -> web.Response:
        await self.record(request)
        query = request.query
        if self.apps.get(query.get("appid", "")) != query.get("secret"):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        await self.record(request)
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        body = await request.json()
        if body.get("touser") in self.blocked:
            return web.json_response({"errcode": 43004, "errmsg": "require subscribe"})
        if not body.get("template_id"):
            return web.json_response({"errcode": 40037, "errmsg": "invalid template_id"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)})


def new_encoding_aes_key() -> str:
    """43 characters: base64 of a 32-byte AES key without its trailing '='."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def encrypt(encoding_aes_key: str, message: str, receiver_id: str) -> str:
    """AES-256-CBC (IV = the key's first 16 bytes) of 16 random bytes + 4-byte big-endian
    length + message + receiver id, PKCS#7-padded to 32 bytes; base64."""
    key = base64.b64decode(encoding_aes_key + "=")
    raw = message.encode()
    plain = os.urandom(16) + struct.pack(">I", len(raw)) + raw + receiver_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
