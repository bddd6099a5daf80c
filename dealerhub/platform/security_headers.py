"""Security headers on every response; HSTS only when the request arrived over TLS.

"Arrived over TLS" is the ASGI scope's scheme: uvicorn (`proxy_headers=True`) sets it from
X-Forwarded-Proto only when the peer is in FORWARDED_ALLOW_IPS, so a client cannot claim
TLS by sending the header itself.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook rather than a middleware, so that answers produced outside the
    middleware stack (404 for unknown paths, 401/403 raised by authentication) carry the
    headers too."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
    headers["x-content-type-options"] = "nosniff"
    headers["x-frame-options"] = "DENY"
    headers["referrer-policy"] = "same-origin"
    if scope.get("scheme") == "https":
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
