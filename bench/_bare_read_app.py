"""The baseline for `read_endpoint`: a bare Litestar endpoint doing the same single-row read
through the same driver (asyncpg), with no auth, tenancy, middleware or ORM."""

from __future__ import annotations

import os
import uuid

import asyncpg
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

SQL = (
    "select id, name, prefix, scopes, created_at, revoked_at, last_used_at from api_key "
    "where tenant_id = $1 and id = $2"
)


def create_app() -> Litestar:
    pool: dict[str, asyncpg.Pool] = {}

    async def start() -> None:
        pool["db"] = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=2, max_size=20)

    async def stop() -> None:
        await pool["db"].close()

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/bare/{tenant_id:uuid}/{api_key_id:uuid}")
    async def read(tenant_id: uuid.UUID, api_key_id: uuid.UUID) -> dict[str, object]:
        row = await pool["db"].fetchrow(SQL, tenant_id, api_key_id)
        if row is None:
            raise NotFoundException()
        return dict(row)

    return Litestar([health, read], on_startup=[start], on_shutdown=[stop])
