"""Messages/s from the send outbox to a local Twilio stand-in, 2 worker processes on Redis.

End to end: N service messages wait in the outbox (rendered, decided); the real scheduler
process dispatches them, `dramatiq dealerhub.worker` (2 processes) sends each through the
`twilio` SDK to the local stand-in and records it sent. The clock runs from the moment they
fall due until every row reads `sent`. Baseline in the same run: bare Dramatiq enqueue → ack
of N no-op messages with the same 2 worker processes and threads on the same Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from typing import Any

import asyncpg

from bench.common import ROOT, postgres_database, result, run_python
from tests.support.processes import PrivateRedis, WorkerProcess
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
    for start in range(0, len(ids), 500):
        await channels.enqueue_messages(
            dealer.id, "service", "bench.reminder",
            [channels.MessageRequest(c, {"vehicle": "星途 TXL"}) for c in ids[start:start + 500]],
            channel="sms", not_before=later)
    await db.stop(get_settings())
    print(json.dumps({"dealer_id": str(dealer.id)}))

asyncio.run(main(int(sys.argv[1]), json.loads(sys.argv[2])))
"""


def _snippet(count: int, account: dict[str, str]) -> str:
    return (f"import sys; sys.argv = ['setup', {str(count)!r}, {json.dumps(account)!r}]\n"
            + SETUP)


async def _release(dsn: str, dealer_id: str) -> None:
    """Everything falls due now: the clock starts."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("select set_config('app.tenant_id', $1, true)", dealer_id)
            await connection.execute(
                "update channel_message set not_before = now() where tenant_id = $1::uuid",
                dealer_id)
        await connection.execute(
            "update channel_outbox set due_at = now() where tenant_id = $1::uuid", dealer_id)
    finally:
        await connection.close()


async def _count_sent(dsn: str, dealer_id: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("select set_config('app.tenant_id', $1, true)", dealer_id)
            return await connection.fetchval(
                "select count(*) from channel_message where tenant_id = $1::uuid "
                "and status = 'sent'", dealer_id)
    finally:
        await connection.close()


def end_to_end(count: int, private: PrivateRedis) -> dict[str, Any]:
    standin = TwilioStandIn().start()
    sid, token = standin.add_account()
    account = {"account_sid": sid, "auth_token": token, "from_number": "+8610690000",
               "api_base_url": standin.url}
    namespace = f"bench-messages-{secrets.token_hex(3)}"
    try:
        with postgres_database("messages") as database:
            env = database.env(REDIS_URL=private.url, DEALERHUB_REDIS_NAMESPACE=namespace)
            dealer_id = json.loads(run_python(_snippet(count, account), database.env()))[
                "dealer_id"]
            workers = WorkerProcess(env, processes=PROCESSES, threads=THREADS).start()
            scheduler = subprocess.Popen([sys.executable, "-m", "dealerhub.cli", "scheduler"],
                                         env={**os.environ, **env}, cwd=ROOT,
                                         start_new_session=True, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            try:
                workers.wait_ready(private.url, namespace, PROCESSES)
                time.sleep(1.0)  # the scheduler has started its loop
                started = time.perf_counter()
                asyncio.run(_release(database.owner_dsn, dealer_id))
                sent, deadline = 0, time.monotonic() + max(120, count / 50)
                while sent < count and time.monotonic() < deadline:
                    time.sleep(0.1)
                    sent = asyncio.run(_count_sent(database.owner_dsn, dealer_id))
                elapsed = time.perf_counter() - started
            finally:
                scheduler.terminate()
                scheduler.wait(20)
                workers.stop()
            provider_sends = len(standin.sent)
    finally:
        standin.stop()
    return {"rate": sent / elapsed, "sent": sent, "provider_sends": provider_sends,
            "seconds": round(elapsed, 2)}


def bare_dramatiq(count: int, private: PrivateRedis) -> float:
    namespace = f"bench-noop-{secrets.token_hex(3)}"
    env = {"REDIS_URL": private.url, "BENCH_NAMESPACE": namespace}
    os.environ.update(env)
    from bench import _noop_actor

    worker = WorkerProcess(env, processes=PROCESSES, threads=THREADS)
    worker.args[worker.args.index("dealerhub.worker")] = "bench._noop_actor"
    worker.start()
    try:
        worker.wait_ready(private.url, namespace, PROCESSES)
        started = time.perf_counter()
        for number in range(count):
            _noop_actor.noop.send(number)
        _noop_actor.broker.join("default", timeout=600_000)
        return count / (time.perf_counter() - started)
    finally:
        worker.stop()


def main(quick: bool) -> dict[str, Any]:
    count = 3000 if quick else 20000
    private = PrivateRedis().start()
    try:
        measured = end_to_end(count, private)
        baseline = bare_dramatiq(count, private)
    finally:
        private.stop()
    print(f"messages: {measured['rate']:.0f} msg/s end to end vs {baseline:.0f} msg/s bare "
          f"Dramatiq: ratio {measured['rate'] / baseline:.2f}", flush=True)
    return result("messages", unit="msg/s", value=measured["rate"], baseline=baseline,
                  target=500, target_on="value", better="higher",
                  size={"messages": count, "worker_processes": PROCESSES,
                        "threads": THREADS, "sent": measured["sent"],
                        "provider_sends": measured["provider_sends"],
                        "seconds": measured["seconds"]})
