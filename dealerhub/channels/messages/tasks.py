"""Jobs of the send pipeline: the send job, the outbox dispatcher and the lease sweeper."""

from __future__ import annotations

from dealerhub.channels.messages import lifecycle
from dealerhub.platform.jobs import actor, periodic


@actor("channels.send", max_retries=3)
async def send(tenant_id: str, message_ids: list[str]) -> None:
    await lifecycle.send_batch(tenant_id, message_ids)


@periodic("channels.dispatch", every_seconds=0.2)
async def dispatch() -> int:
    return await lifecycle.dispatch_due(send.send)


@periodic("channels.sweep", every_seconds=5)
async def sweep() -> int:
    return await lifecycle.sweep_stale()
