"""Messages/s from the send outbox to a local Twilio stand-in, 2 worker processes on Redis.

End to end: N service messages wait in the outbox (rendered, decided); the real scheduler
process dispatches them, `dramatiq dealerhub.worker` (2 processes) sends each through the
`twilio` SDK to the local stand-in and records it sent. The clock runs from the moment they
fall due until every row reads `sent`. Baseline in the same run: bare Dramatiq enqueue → ack
of N no-op messages with the same 2 worker processes and threads on the same Redis.

Both also report CPU seconds per message of every process doing the work (workers,
scheduler, redis-server, this process — the Twilio stand-in and the clock — and the
PostgreSQL backends of the bench database): on a machine shared with others that figure
survives the load, and 2 CPU-seconds per second is what an idle 2-core machine offers.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from typing import Any

import asyncpg
from dramatiq.brokers.redis import RedisBroker

from bench._stack import descendants
from bench.common import cpu_seconds, postgres_database, result, run_python
from tests.support.processes import PrivateRedis, ServiceProcess, WorkerProcess
from tests.support.twilio_standin import TwilioStandIn

PROCESSES = 2
THREADS = 8
SETUP = """
import asyncio, json, random, sys
from datetime import UTC, datetime, timedelta
from bench._customer_base import add_customers, make_dealer
from dealerhub.channels import service as channels
from dealerhub.channels.credentials import service as credentials
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.tables import Customer

channels.register_template("bench.reminder", "service", {
    "zh-CN": channels.TemplateText(None, "{{ customer_name }}您好，您的{{ vehicle }}该保养了。"),
    "en": channels.TemplateText(None, "Hello {{ customer_name }}, your {{ vehicle }} is due.")})

async def main(count, account):
    await db.start(get_settings())
    dealer = await make_dealer("BM" + str(random.randrange(10**6)))
    await add_customers(random.Random(5), dealer, count, with_vehicles=False)
    await credentials.save_account(dealer.id, "twilio_sms", enabled=True, sender="",
                                   settings=account)
    async with tenant_scope(dealer.id, write=False):
        ids = [r["id"] for r in await Customer.select_in_tenant(Customer.id)]
    later = datetime.now(UTC) + timedelta(days=1)
    for batch in db.chunks(ids, 500):
        await channels.enqueue_messages(
            dealer.id, "service", "bench.reminder",
            [channels.MessageRequest(c, {"vehicle": "星途 TXL"}) for c in batch],
            channel="sms", not_before=later)
    await db.stop(get_settings())
    print(json.dumps({"dealer_id": str(dealer.id)}))

asyncio.run(main(int(sys.argv[1]), json.loads(sys.argv[2])))
"""


def _snippet(count: int, account: dict[str, str]) -> str:
    return (f"import sys; sys.argv = ['setup', {str(count)!r}, {json.dumps(account)!r}]\n"
            + SETUP)


class CpuMeter:
    """CPU seconds used by processes (with their children) by role, by PostgreSQL's
    backends of one database (those alive at the reading) and by this process."""

    def __init__(self, roles: dict[str, int], dsn: str | None = None, database: str = "") -> None:
        self.roles, self.dsn, self.database = roles, dsn, database
        self.start: dict[str, float] = {}

    def _backends(self) -> list[int]:
        if self.dsn is None:
            return []

        async def fetch() -> list[int]:
            connection = await asyncpg.connect(self.dsn)
            try:
                return [row["pid"] for row in await connection.fetch(
                    "select pid from pg_stat_activity where datname = $1 "
                    "and pid <> pg_backend_pid()", self.database)]
            finally:
                await connection.close()

        return asyncio.run(fetch())

    def read(self) -> dict[str, float]:
        def total(pids: list[int]) -> float:
            used = 0.0
            for pid in pids:
                try:
                    used += cpu_seconds(pid)
                except (FileNotFoundError, ProcessLookupError):
                    continue
            return used

        own = os.times()
        return {**{role: total(descendants(pid)) for role, pid in self.roles.items()},
                "postgres": total(self._backends()), "bench": own.user + own.system}

    def __enter__(self) -> CpuMeter:
        self.start = self.read()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.used = {key: value - self.start.get(key, 0.0) for key, value in self.read().items()}


async def _release(connection: asyncpg.Connection, dealer_id: str) -> None:
    """Everything falls due now: the clock starts."""
    async with connection.transaction():
        await connection.execute("select set_config('app.tenant_id', $1, true)", dealer_id)
        await connection.execute(
            "update channel_message set not_before = now() where tenant_id = $1::uuid",
            dealer_id)
    await connection.execute(
        "update channel_outbox set due_at = now() where tenant_id = $1::uuid", dealer_id)


async def _count_sent(connection: asyncpg.Connection, dealer_id: str) -> int:
    async with connection.transaction():
        await connection.execute("select set_config('app.tenant_id', $1, true)", dealer_id)
        return await connection.fetchval(
            "select count(*) from channel_message where tenant_id = $1::uuid "
            "and status = 'sent'", dealer_id)


def _wait_quiet(dsn: str, broker: RedisBroker, timeout: float = 300, mark: bool = True) -> None:
    """Until the scheduler has relayed every event (with `mark`, one of ours first: it is
    running its loop) and the workers have run every job: the clock starts on an idle
    system, and the CPU reading ends when the sends' own events are delivered."""

    async def unpublished(mark: bool) -> int:
        connection = await asyncpg.connect(dsn)
        try:
            if mark:
                await connection.execute(
                    "insert into event_outbox (id, created_at, event_type, payload, occurred_at) "
                    "values (gen_random_uuid(), now(), 'bench.ready', '{}', now())")
            return await connection.fetchval(
                "select count(*) from event_outbox where published_at is null")
        finally:
            await connection.close()

    deadline = time.monotonic() + timeout
    while asyncio.run(unpublished(mark)) or broker.do_qsize("default"):
        if time.monotonic() > deadline:
            raise RuntimeError("the scheduler and workers did not go quiet")
        mark = False
        time.sleep(0.5)
    time.sleep(1.0)


async def _measure(dsn: str, dealer_id: str, count: int) -> tuple[int, float]:
    """Release the messages and poll (one connection) until all are sent."""
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await _release(connection, dealer_id)
        sent, deadline = 0, time.monotonic() + max(120, count / 50)
        while sent < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            sent = await _count_sent(connection, dealer_id)
        return sent, time.perf_counter() - started
    finally:
        await connection.close()


def end_to_end(count: int, private: PrivateRedis) -> dict[str, Any]:
    standin = TwilioStandIn().start()
    sid, token = standin.add_account()
    account = {"account_sid": sid, "auth_token": token, "from_number": "+8610690000",
               "api_base_url": standin.url}
    namespace = f"bench-messages-{secrets.token_hex(3)}"
    broker = RedisBroker(url=private.url, namespace=namespace)
    try:
        with postgres_database("messages") as database:
            env = database.env(REDIS_URL=private.url, DEALERHUB_REDIS_NAMESPACE=namespace)
            dealer_id = json.loads(run_python(_snippet(count, account), database.env()))[
                "dealer_id"]
            workers = WorkerProcess(env, processes=PROCESSES, threads=THREADS).start()
            scheduler = ServiceProcess.dealerhub("scheduler", env=env).start()
            try:
                workers.wait_ready(private.url, namespace, PROCESSES)
                _wait_quiet(database.owner_dsn, broker)
                meter = CpuMeter({"worker": _pid(workers), "scheduler": _pid(scheduler),
                                  "redis": _pid(private)},
                                 database.owner_dsn, database.name)
                with meter:  # until the events of the sends are delivered too
                    sent, elapsed = asyncio.run(_measure(database.owner_dsn, dealer_id, count))
                    _wait_quiet(database.owner_dsn, broker, mark=False)
            finally:
                scheduler.stop()
                workers.stop()
            provider_sends = len(standin.sent)
    finally:
        standin.stop()
        broker.close()
    return {"rate": sent / elapsed, "sent": sent, "provider_sends": provider_sends,
            "seconds": round(elapsed, 2), "cpu": meter.used}


def _pid(process: ServiceProcess | PrivateRedis) -> int:
    assert process.process is not None, "started"
    return process.process.pid


def bare_dramatiq(count: int, private: PrivateRedis) -> dict[str, Any]:
    namespace = f"bench-noop-{secrets.token_hex(3)}"
    env = {"REDIS_URL": private.url, "BENCH_NAMESPACE": namespace}
    os.environ.update(env)
    from bench import _noop_actor

    worker = WorkerProcess(env, processes=PROCESSES, threads=THREADS)
    worker.args[worker.args.index("dealerhub.worker")] = "bench._noop_actor"
    worker.start()
    try:
        worker.wait_ready(private.url, namespace, PROCESSES)
        with CpuMeter({"worker": _pid(worker), "redis": _pid(private)}) as meter:
            started = time.perf_counter()
            for number in range(count):
                _noop_actor.noop.send(number)
            _noop_actor.broker.join("default", timeout=600_000)
            elapsed = time.perf_counter() - started
        return {"rate": count / elapsed, "cpu": meter.used}
    finally:
        worker.stop()


def _per_message(cpu: dict[str, float], count: int) -> dict[str, float]:
    """CPU milliseconds per message, by role and in all."""
    return {key: round(1000 * value / count, 3)
            for key, value in {**cpu, "all": sum(cpu.values())}.items()}


def main(quick: bool) -> dict[str, Any]:
    count = 3000 if quick else 20000
    private = PrivateRedis().start()
    try:
        measured = end_to_end(count, private)
        bare = bare_dramatiq(count, private)
    finally:
        private.stop()
    ours, theirs = _per_message(measured["cpu"], count), _per_message(bare["cpu"], count)
    print(f"messages: {measured['rate']:.0f} msg/s end to end vs {bare['rate']:.0f} msg/s bare "
          f"Dramatiq: ratio {measured['rate'] / bare['rate']:.2f}; CPU ms per message "
          f"{ours} vs bare {theirs}; on 2 idle cores at most "
          f"{2000 / ours['all']:.0f} vs {2000 / theirs['all']:.0f} msg/s; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    return result("messages", unit="msg/s", value=measured["rate"], baseline=bare["rate"],
                  target=500, target_on="value", better="higher",
                  size={"messages": count, "worker_processes": PROCESSES,
                        "threads": THREADS, "sent": measured["sent"],
                        "provider_sends": measured["provider_sends"],
                        "seconds": measured["seconds"], "cpu_ms_per_message": ours,
                        "bare_cpu_ms_per_message": theirs})
