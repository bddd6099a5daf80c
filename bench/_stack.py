"""The running app the load and soak benchmarks drive, as it is deployed: `dealerhub serve`
processes, `dealerhub worker` and `dealerhub scheduler` on a fresh PostgreSQL database
with the demo data and a private redis-server, channels pointed at a local Twilio
stand-in. Also the client side: aiohttp sending `Call`s, and /proc readings of the
processes' CPU time and resident memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import redis

from bench._load_setup import DealerPlan
from bench._workload import Call, Reply, Workload, open_loop
from bench.common import (
    ROOT,
    BenchDatabase,
    app_backend_pids,
    cpu_or_zero,
    postgres_database,
)
from dealerhub.demo import DEMO_PASSWORD
from tests.support.processes import AppServer, PrivateRedis, ServiceProcess, WorkerProcess
from tests.support.twilio_standin import TwilioStandIn

NAMESPACE = "bench-load"
API_PROCESSES = 2  # one per core
WORKER_PROCESSES, WORKER_THREADS = 1, 4  # `dealerhub worker`'s default threads
POOL_SIZE = 8  # connections per process: the shared server allows 100 for 8 engineers
QUIET_TIMEOUT = 600
# the URL the app believes it is reached at: Twilio signs callbacks over it
PUBLIC_BASE_URL = "https://dealerhub.bench.example"


@dataclass
class Stack:
    database: BenchDatabase
    redis: PrivateRedis
    standin: TwilioStandIn | None
    twilio: dict[str, str]
    env: dict[str, str]
    api: list[AppServer] = field(default_factory=list)
    worker: WorkerProcess | None = None
    scheduler: ServiceProcess | None = None
    plans: list[DealerPlan] = field(default_factory=list)

    @property
    def bases(self) -> list[str]:
        return [server.url for server in self.api]

    def workload(self, seed: int = 10) -> Workload:
        return Workload(self.plans, DEMO_PASSWORD, PUBLIC_BASE_URL, self.twilio["auth_token"],
                        seed)

    def processes(self) -> dict[str, list[int]]:
        """Process ids by role; the worker's forked children are read from /proc."""
        return {"api": [_pid(server) for server in self.api],
                "worker": descendants(_pid(self.worker)) if self.worker else [],
                "scheduler": [_pid(self.scheduler)] if self.scheduler else []}

    async def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by role, PostgreSQL's backends for this database included
        (what a request costs, whoever else shares the machine)."""
        roles = {**self.processes(), "postgres": await app_backend_pids(self.database)}
        return {role: sum(cpu_or_zero(pid) for pid in pids) for role, pids in roles.items()}


def _pid(service: ServiceProcess) -> int:
    assert service.process is not None, "started"
    return service.process.pid


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            queue += [int(child) for child in task.read_text().split()]
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _run_setup(command: str, env: dict[str, str], argument: dict) -> list[DealerPlan]:
    completed = subprocess.run([sys.executable, "-m", "bench._load_setup", command],
                               input=json.dumps(argument), env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True)
    return [DealerPlan(**p) for p in json.loads(completed.stdout.strip().splitlines()[-1])]


BACKLOG_SQL = """
select (select count(*) from event_outbox where published_at is null)
     + (select count(*) from channel_outbox where done_at is null and due_at <= now())
"""


async def wait_quiet(stack: Stack) -> float:
    """Until the relay and the worker have caught up (the demo seed leaves a backlog of
    events; a step leaves jobs behind): no event unrelayed, no message unsent, no job
    queued or running. Returns the seconds it took."""
    started = time.monotonic()
    client = redis.Redis.from_url(stack.redis.url)
    connection = await asyncpg.connect(stack.database.owner_dsn)
    try:
        while time.monotonic() - started < QUIET_TIMEOUT:
            jobs = sum(client.hlen(key) for key in client.scan_iter(f"{NAMESPACE}:*.msgs"))
            if jobs == 0 and await connection.fetchval(BACKLOG_SQL) == 0:
                return time.monotonic() - started
            await asyncio.sleep(1.0)
    finally:
        await connection.close()
    raise RuntimeError(f"the worker did not catch up in {QUIET_TIMEOUT} s")


@contextlib.contextmanager
def running_stack(customers_per_dealer: int, invitations: int,
                  messages: int) -> Iterator[Stack]:
    """Seed, prepare, start every process, wait for the seed's backlog to be worked off.
    `invitations` and `messages` are per demo dealer."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on `timeout` too
    private = PrivateRedis().start()
    standin = TwilioStandIn().start()
    sid, token = standin.add_account()
    twilio = {"account_sid": sid, "auth_token": token, "from_number": "+8610690000",
              "api_base_url": standin.url}
    try:
        with postgres_database("load") as database:
            env = database.env(
                DATABASE_URL=f"{database.app_dsn}?pool_size={POOL_SIZE}",
                REDIS_URL=private.url, DEALERHUB_REDIS_NAMESPACE=NAMESPACE,
                PUBLIC_BASE_URL=PUBLIC_BASE_URL)
            stack = Stack(database, private, standin, twilio, env)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dealerhub.cli", "seed-demo",
                            "--customers-per-dealer", str(customers_per_dealer)],
                           env=database.env(), cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            stack.plans = _run_setup("prepare", env, {
                "demo_logins": True, "logins": {}, "twilio": twilio,
                "invitations": invitations, "messages": messages})
            print(f"demo data ({customers_per_dealer} customers per dealer) and the plan "
                  f"ready in {time.perf_counter() - started:.0f} s", flush=True)
            with serving(stack):
                stack.plans = _run_setup("sent", env, {"plans": [asdict(p)
                                                                 for p in stack.plans]})
                if not all(p.callbacks for p in stack.plans):
                    raise RuntimeError("some dealers have no sent SMS to call back about")
                yield stack
    finally:
        standin.stop()
        private.stop()


@contextlib.contextmanager
def serving(stack: Stack) -> Iterator[Stack]:
    """Start the worker, the scheduler and the API processes on the stack's database and
    Redis, wait until they are ready and the backlog is worked off; stop them after."""
    try:
        stack.worker = WorkerProcess(stack.env, WORKER_PROCESSES, WORKER_THREADS)
        stack.worker.args[2:4] = ["dealerhub.cli", "worker"]
        stack.worker.start()
        stack.scheduler = ServiceProcess.dealerhub("scheduler", env=stack.env).start()
        stack.api = [AppServer(stack.env).start() for _ in range(API_PROCESSES)]
        for server in stack.api:
            server.wait_ready()
        stack.worker.wait_ready(stack.redis.url, NAMESPACE, WORKER_PROCESSES, timeout=180)
        backlog = asyncio.run(wait_quiet(stack))
        print(f"worked off the backlog in {backlog:.0f} s", flush=True)
        yield stack
    finally:
        for service in [*stack.api, stack.scheduler, stack.worker]:
            if service is not None:
                service.stop()


@contextlib.asynccontextmanager
async def signed_in(stack: Stack, warm_up_seconds: float = 5) -> AsyncIterator[tuple]:
    """The workload with every dealer's portal session, its `Send`, after a short warm-up
    at a low rate (first requests fill caches and connection pools)."""
    workload = stack.workload()
    async with aiohttp_sender(stack.bases) as send:
        await workload.sign_in(send)
        await open_loop(workload, send, 5, warm_up_seconds)
        await wait_quiet(stack)
        yield workload, send


@contextlib.asynccontextmanager
async def aiohttp_sender(bases: list[str]) -> AsyncIterator:
    """A `Send` over one keep-alive pool, round-robin over the API processes (the job of
    the load balancer in front of them); no cookie jar: each call carries its own."""
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    turn = iter(range(1 << 62))
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False) as session:

        async def send(call: Call) -> Reply:
            base = bases[next(turn) % len(bases)]
            async with session.request(call.method, base + call.path, headers=call.headers,
                                       data=call.body or None, allow_redirects=False) as reply:
                await reply.read()
                return Reply(reply.status, reply.headers.getall("Set-Cookie", []))

        yield send
