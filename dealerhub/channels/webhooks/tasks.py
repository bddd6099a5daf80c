"""Jobs for third-party webhooks: one attempt per job; the scheduler hands out due ones."""

from __future__ import annotations

from dealerhub.channels.messages.tasks import pool_ready
from dealerhub.channels.webhooks import service
from dealerhub.platform.jobs import actor, periodic


@actor("webhooks.deliver", max_retries=2)
async def deliver(tenant_id: str, delivery_id: str, queue_id: str, oem: bool = False) -> None:
    await pool_ready()
    await service.attempt_delivery(tenant_id, delivery_id, queue_id, oem)


@periodic("webhooks.dispatch", every_seconds=0.5)
async def dispatch() -> int:
    return await service.dispatch_due(deliver.send)


@periodic("webhooks.sweep", every_seconds=30)
async def sweep() -> int:
    return await service.sweep_stale()
