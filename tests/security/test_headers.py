"""Security headers on pages, the API and static files; HSTS only over TLS, where "over TLS"
may come from a trusted proxy's X-Forwarded-Proto but never from the client's own header."""

from __future__ import annotations

import re

import httpx
import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dealerhub.platform.web.pages import template_directories
from tests.conftest import login_page_session

pytestmark = pytest.mark.anyio
PROXY = "10.0.0.7"


def csp_directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


async def test_every_kind_of_response_carries_the_headers(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    for url in ("/login", "/", "/customers", "/api/v1/me", "/static/app.css", "/nowhere"):
        response = await client.get(url)
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["x-frame-options"] == "DENY", url
        assert response.headers["referrer-policy"] == "same-origin", url
        directives = csp_directives(response)
        assert directives["script-src"] == "script-src 'self'", url
        assert directives["frame-ancestors"] == "frame-ancestors 'none'", url
        assert directives["object-src"] == "object-src 'none'", url
        assert "strict-transport-security" not in response.headers, url


def test_no_template_needs_inline_script() -> None:
    """script-src 'self' blocks inline scripts and on*= handlers: none may exist (JSON data
    blocks are not scripts and are allowed)."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = [
        str(path)
        for directory in template_directories()
        for path in directory.rglob("*.html")
        if inline.search(path.read_text()) or handler.search(path.read_text())
    ]
    assert not offenders, offenders


def fresh_app():
    """An app of this test's own: `client.app` lives in the test client's event loop (its
    Redis store and pools), so calling it from this loop would cross loops."""
    from dealerhub.app import create_app

    return create_app(embedded_jobs=False)


async def _get(app, url: str, client_host: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://dealerhub.test") as c:
        return await c.get(url, headers=headers)


async def test_hsts_only_over_tls(client) -> None:
    plain = await client.get("/login")
    assert "strict-transport-security" not in plain.headers
    spoofed = await client.get("/login", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    transport = httpx.ASGITransport(app=fresh_app())
    async with httpx.AsyncClient(transport=transport, base_url="https://dealerhub.test") as tls:
        direct = await tls.get("/login")
    assert direct.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_hsts_from_a_trusted_proxy_only(database) -> None:
    """The same middleware `dealerhub serve` runs (uvicorn proxy_headers, FORWARDED_ALLOW_IPS)."""
    app = ProxyHeadersMiddleware(fresh_app(), trusted_hosts=PROXY)
    trusted = await _get(app, "/login", PROXY, **{"x-forwarded-proto": "https"})
    assert trusted.headers["strict-transport-security"].startswith("max-age=31536000")
    untrusted = await _get(app, "/login", "203.0.113.9", **{"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in untrusted.headers
    behind_plain_proxy = await _get(app, "/login", PROXY, **{"x-forwarded-proto": "http"})
    assert "strict-transport-security" not in behind_plain_proxy.headers


def test_serve_trusts_proxy_headers_from_configured_peers_only() -> None:
    import inspect

    from dealerhub import cli

    source = inspect.getsource(cli.serve)
    assert "proxy_headers=True" in source and "forwarded_allow_ips" not in source
