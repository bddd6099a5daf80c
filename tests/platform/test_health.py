"""Liveness and readiness."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from dealerhub.app import create_app
from dealerhub.platform.config import get_settings

pytestmark = pytest.mark.anyio


async def test_health_and_ready(client) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["failing"] == []


async def test_ready_names_an_unreachable_redis(database) -> None:
    settings = dataclasses.replace(get_settings(), redis_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(settings, embedded_jobs=False)) as broken:
        response = await broken.get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis: ConnectionError"]


async def test_security_headers(client) -> None:
    response = await client.get("/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers
    spoofed = await client.get("/login", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in spoofed.headers  # tests/security: trusted proxy


async def test_pages_redirect_to_login_and_api_answers_401(client) -> None:
    page = await client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
    api = await client.get("/api/v1/me")
    assert api.status_code == 401 and api.headers["content-type"].startswith(
        "application/problem+json"
    )
