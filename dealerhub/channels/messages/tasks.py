"""Jobs of the send pipeline: the send job, the outbox dispatcher and the lease sweeper."""

from __future__ import annotations

import asyncio

from dealerhub.channels.messages import lifecycle
from dealerhub.platform import db
from dealerhub.platform.jobs import actor, periodic

POOL_WAIT_SECONDS = 30


async def pool_ready() -> None:
    """A worker that boots with a backlog can run a job before the worker's boot hook has
    opened this event loop's PostgreSQL pool; a transaction begun then would take a bare
    connection and fail to hand it back. Wait for the pool rather than race it."""
    if not db.is_postgres():
        return
    for _ in range(int(POOL_WAIT_SECONDS / 0.05)):
        if db.engine().pool is not None:
            return
        await asyncio.sleep(0.05)


@actor("channels.send", max_retries=3)
async def send(tenant_id: str, message_ids: list[str]) -> None:
    await pool_ready()
    await lifecycle.send_batch(tenant_id, message_ids)


@periodic("channels.dispatch", every_seconds=0.2)
async def dispatch() -> int:
    return await lifecycle.dispatch_due(send.send)


@periodic("channels.sweep", every_seconds=5)
async def sweep() -> int:
    return await lifecycle.sweep_stale()
