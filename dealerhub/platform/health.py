"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, get
from litestar.response import Response

from dealerhub.platform import db

CHECK_TIMEOUT_SECONDS = 2.0


async def check_database() -> str | None:
    try:
        await asyncio.wait_for(db.fetch("select 1"), CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        return f"database: {type(error).__name__}"
    return None


async def check_redis(url: str | None) -> str | None:
    if not url:
        return None
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await asyncio.wait_for(client.ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        return f"redis: {type(error).__name__}"
    finally:
        await client.aclose()
    return None


class HealthController(Controller):
    tags = ["health"]

    @get("/health", exclude_from_auth=True)
    async def health(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/ready", exclude_from_auth=True)
    async def ready(self, request: Request) -> Response[dict[str, object]]:
        """The database and (when configured) Redis answer; 503 names what does not."""
        settings = request.app.state.settings
        failures = [
            f for f in await asyncio.gather(check_database(), check_redis(settings.redis_url)) if f
        ]
        if failures:
            return Response({"status": "unavailable", "failing": failures}, status_code=503)
        return Response({"status": "ready", "failing": []})
