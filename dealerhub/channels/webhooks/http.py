"""Outbound HTTP for webhooks: refuse private addresses, sign per Standard Webhooks, never
follow redirects, time out after 10 s, and report what happened for the attempt log."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from standardwebhooks.webhooks import Webhook

from dealerhub.channels.plugin import PROVIDER_TIMEOUT_SECONDS
from dealerhub.platform.config import get_settings

EXCERPT_CHARS = 500


class UnsafeUrl(ValueError):
    """The URL is not http(s) or resolves to a private, loopback or link-local address."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


async def check_url(url: str) -> None:
    """Raise UnsafeUrl unless the URL may be called (operators may allow private ones)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UnsafeUrl("url must be an absolute http(s) URL")
    if get_settings().allow_private_webhooks:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80),
            type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl(f"url host {parsed.hostname!r} does not resolve") from None
    if any(_is_private(info[4][0]) for info in infos):
        raise UnsafeUrl("url resolves to a private or loopback address")


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary())


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT_SECONDS, follow_redirects=False)
        _clients[loop] = client
    return client


def signed_headers(secret: str, msg_id: str, body: str,
                   at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


async def signed_post(url: str, secret: str, msg_id: str, payload: dict[str, Any]) -> PostResult:
    """POST one signed payload; every outcome, including a refusal, comes back as a result."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    started = time.perf_counter()
    try:
        await check_url(url)
        response = await _client().post(url, content=body.encode(),
                                        headers=signed_headers(secret, msg_id, body))
    except UnsafeUrl as error:
        return PostResult(None, 0, "", str(error))
    except httpx.TimeoutException:
        return PostResult(None, int((time.perf_counter() - started) * 1000), "",
                          f"timed out after {PROVIDER_TIMEOUT_SECONDS:.0f} s")
    except httpx.HTTPError as error:
        return PostResult(None, int((time.perf_counter() - started) * 1000), "",
                          f"{type(error).__name__}: {error}"[:300])
    latency = int((time.perf_counter() - started) * 1000)
    error = ""
    if 300 <= response.status_code < 400:
        error = "redirects are not followed"
    return PostResult(response.status_code, latency, response.text[:EXCERPT_CHARS], error,
                      retry_after_seconds(response.headers.get("retry-after")))


def verify(secret: str, body: bytes, headers: dict[str, str]) -> Any:
    """Verify a Standard Webhooks request; raises standardwebhooks' WebhookVerificationError."""
    return Webhook(secret).verify(body, headers)
