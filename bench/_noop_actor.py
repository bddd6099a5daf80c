"""The baseline's worker module: bare Dramatiq on Redis with one no-op actor
(`dramatiq bench._noop_actor`); REDIS_URL and BENCH_NAMESPACE come from the environment."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=os.environ["BENCH_NAMESPACE"])
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="default", max_retries=0)
def noop(number: int) -> None:
    """Does nothing: what is measured is the broker's enqueue → ack."""
