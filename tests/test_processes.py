"""The production processes for real: `dealerhub scheduler` relays the outbox and
`dealerhub worker` consumes from Redis, each in its own OS process."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from dealerhub.platform import events
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


async def _wait_until(check, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_scheduler_relays_and_worker_consumes(dealer_a, quiet_outbox) -> None:
    from dealerhub.platform.jobs import broker

    async with tenant_scope(dealer_a.id):
        event_id = await events.emit("process.check", {"marker": uuid.uuid4().hex})
    queue = f"{broker.namespace}:default"  # type: ignore[attr-defined]
    scheduler = ServiceProcess.dealerhub("scheduler").start()
    worker = ServiceProcess.dealerhub("worker", "--processes", "1", "--threads", "2").start()
    try:

        async def published() -> bool:
            row = (
                await EventOutbox.select(EventOutbox.published_at)
                .where(EventOutbox.id == event_id)
                .first()
            )
            return row["published_at"] is not None

        assert await _wait_until(published), "the scheduler did not relay the event"
        # a job sent here is picked up by the worker process and leaves the Redis queue
        events.deliver.send(str(event_id), "no.such.consumer")

        async def drained() -> bool:
            return broker.client.llen(queue) == 0 and not broker.client.hlen(  # type: ignore[attr-defined]
                f"{queue}.msgs"
            )

        assert await _wait_until(drained), "the worker did not consume the job"
        assert worker.running and scheduler.running, worker.output() + scheduler.output()
    finally:
        scheduler.stop()
        worker.stop()
