"""No message is lost: with Redis stopped the outbox rows wait in the database and leave
when it is back; a worker SIGKILLed mid-send leaves the row to the sweeper, and our message
id, sent as the provider's idempotency token, keeps the resend from doubling."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from dealerhub.channels import service as channels
from dealerhub.channels.messages import lifecycle
from dealerhub.channels.messages.tables import ChannelOutbox
from tests.channels.conftest import SERVICE, new_customer, save_account
from tests.support.processes import PrivateRedis, WorkerProcess

pytestmark = pytest.mark.anyio
LEASE_SECONDS = 3


class Queue:
    """The dispatcher's view of a broker on the private Redis."""

    def __init__(self, url: str, namespace: str) -> None:
        self.broker = RedisBroker(url=url, namespace=namespace)

    def send(self, tenant_id: str, message_ids: list[str]) -> None:
        self.broker.enqueue(dramatiq.Message(queue_name="default", actor_name="channels.send",
                                             args=(tenant_id, message_ids), kwargs={},
                                             options={}))


def worker_env(redis_url: str, namespace: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "DEALERHUB_REDIS_NAMESPACE": namespace,
            "DEALERHUB_CHANNEL_SEND_LEASE_SECONDS": str(LEASE_SECONDS)}


async def outbox_row(message_id: uuid.UUID) -> dict:
    return await ChannelOutbox.select().where(ChannelOutbox.message_id == message_id).first()


async def wait_for_status(dealer_id, message_id, status: str) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if (await channels.get_message(dealer_id, message_id)).status == status:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"message never reached {status}: "
                         f"{(await channels.get_message(dealer_id, message_id)).status}")


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.stop()


async def test_messages_wait_while_redis_is_down(dealer_a, private_redis) -> None:
    namespace = f"loss-{secrets.token_hex(4)}"
    queue = Queue(private_redis.url, namespace)
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    private_redis.stop()
    with pytest.raises(redis.RedisError):
        await lifecycle.dispatch_due(queue.send)
    row = await outbox_row(message.id)
    assert row["dispatched_at"] is None and row["done_at"] is None
    assert (await channels.get_message(dealer_a.id, message.id)).status == "queued"
    private_redis.start()  # back, on the same port
    worker = WorkerProcess(worker_env(private_redis.url, namespace), threads=2).start()
    try:
        await asyncio.to_thread(worker.wait_ready, private_redis.url, namespace)
        assert await lifecycle.dispatch_due(queue.send) >= 1
        await wait_for_status(dealer_a.id, message.id, "sent")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{worker.output()}") from None
    finally:
        worker.stop()
    assert (await outbox_row(message.id))["done_at"] is not None


async def test_a_worker_killed_mid_send_loses_nothing_and_sends_once(
        dealer_a, private_redis, twilio_api, twilio_config) -> None:
    namespace = f"kill-{secrets.token_hex(4)}"
    queue = Queue(private_redis.url, namespace)
    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    token = str(message.id)

    def seen() -> list:
        return [r for r in twilio_api.requests
                if r.headers.get("I-Twilio-Idempotency-Token") == token]

    twilio_api.delay = 4.0  # the provider holds the request: the worker is mid-send
    first = WorkerProcess(worker_env(private_redis.url, namespace), threads=2).start()
    try:
        await asyncio.to_thread(first.wait_ready, private_redis.url, namespace)
        await lifecycle.dispatch_due(queue.send)
        for _ in range(600):
            if seen():
                break
            await asyncio.sleep(0.05)
        assert seen(), f"the worker never reached the provider:\n{first.output()}"
        first.kill()
    finally:
        first.kill()
        twilio_api.delay = 0.0
    assert (await channels.get_message(dealer_a.id, message.id)).status == "sending"
    await asyncio.sleep(LEASE_SECONDS + 1.5)  # the dead worker's lease runs out
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await lifecycle.sweep_stale(now=later) >= 1
    second = WorkerProcess(worker_env(private_redis.url, namespace), threads=2).start()
    try:
        await asyncio.to_thread(second.wait_ready, private_redis.url, namespace)
        await lifecycle.dispatch_due(queue.send)
        await wait_for_status(dealer_a.id, message.id, "sent")
    finally:
        second.stop()
    assert len(seen()) >= 2  # it was sent again …
    accepted = [r for r in twilio_api.sent if r.headers.get("I-Twilio-Idempotency-Token") == token]
    assert len(accepted) == 1  # … but the provider made one message of it
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.attempts == 2 and detail.provider_id.startswith("SM")
