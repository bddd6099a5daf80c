"""Survey answers ingested per second through the public page vs bare inserts (PostgreSQL).

Run as production runs: `dealerhub serve` processes on a Redis broker (a private
redis-server), the event consumers in a `dealerhub worker` process and the relay in
`dealerhub scheduler`. The rate is that of the public POSTs; the worker's and the
scheduler's CPU is reported apart — on this 2-core machine it still competes with the API."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import urlencode

from bench._stack import (
    API_PROCESSES,
    NAMESPACE,
    POOL_SIZE,
    Stack,
    aiohttp_sender,
    serving,
    wait_quiet,
)
from bench._workload import FORM, Call, cookie_from
from bench.common import cpu_seconds, postgres_database, result, run_python
from tests.support.processes import PrivateRedis

TARGET_RATIO = 0.3
CLIENTS = 16
KEYS = ["overall.csat", "reception.prompt", "overall.comment"]
ANSWERS = {"q_overall.csat": "4", "q_reception.prompt": "5", "q_overall.comment": "服务很好"}

SETUP = """
import asyncio, json, uuid
from datetime import UTC, datetime
from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer, Region
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.questions import service as questions
from dealerhub.survey.seed import seed_bank
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.customers.tables import Customer

async def main():
    await db.start(get_settings())
    await seed_bank()
    region = Region(code="B", name_zh="基准", name_en="Bench")
    await Region.insert(region)
    dealer = Dealer(code="B0001", name="Bench", region=region.id, city="上海")
    await Dealer.insert(dealer)
    now = datetime.now(UTC)
    tokens = []
    async with tenant_scope(dealer.id):
        bank = await questions.active_by_key({keys!r})
        refs = triggers.question_refs([bank[k] for k in {keys!r}])
        customers = [Customer(name=f"客户{{i}}", phone_e164=f"+86139{{i:08d}}",
                              phone_reversed=f"+86139{{i:08d}}"[::-1])
                     for i in range({count})]
        invitations = [Invitation(customer_id=c.id, questions=refs, status="sent", sent_at=now,
                                  due_at=now, created_at=now) for c in customers]
        for start in range(0, len(customers), 500):  # the bind-parameter limit
            await Customer.insert_in_tenant(*customers[start:start + 500])
            await Invitation.insert_in_tenant(*invitations[start:start + 500])
        tokens = [triggers.survey_token(dealer.id, row.id) for row in invitations]
    await db.stop(get_settings())
    print(json.dumps({{"tenant_id": str(dealer.id), "tokens": tokens,
                      "customers": [str(c.id) for c in customers]}}))

asyncio.run(main())
"""


async def _through_the_page(bases: list[str], tokens: list[str]) -> tuple[float, int, float]:
    """POST every invitation's answers through the public page, CLIENTS at a time, round
    robin over the API processes as a load balancer would. The form carries what the page
    gives a phone: its hidden fields and cookies (a CSRF token where the page sets one).
    Returns seconds, failures and the client's CPU seconds."""
    async with aiohttp_sender(bases) as send:
        page = await send(Call("survey_page", "GET", f"/c/survey/{tokens[0]}", {}))
        csrf = (cookie_from(page, "dh_csrf")
                if any(c.startswith("dh_csrf=") for c in page.set_cookies) else "")
        headers = {"Content-Type": FORM, **({"Cookie": f"dh_csrf={csrf}"} if csrf else {})}
        body = urlencode({**ANSWERS, **({"_csrf_token": csrf} if csrf else {})}).encode()
        queue = list(tokens)
        failures = 0

        async def client() -> None:
            nonlocal failures
            while queue:
                reply = await send(Call("survey_answer", "POST", f"/c/survey/{queue.pop()}",
                                        headers, body))
                failures += reply.status != 200

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return time.perf_counter() - started, failures, time.process_time() - cpu


async def _bare(dsn: str, tenant_id: str, customers: list[str]) -> tuple[float, dict]:
    """The same answer rows inserted straight with asyncpg: one transaction per submission.
    Returns seconds and the CPU seconds of the client and of its PostgreSQL backends."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=CLIENTS, max_size=CLIENTS)
    queue = list(customers)
    question = uuid.uuid4()

    async def worker() -> None:
        async with pool.acquire() as connection:
            while queue:
                customer = queue.pop()
                invitation = uuid.uuid4()
                async with connection.transaction():
                    await connection.execute(
                        "select set_config('app.tenant_id', $1, true)", tenant_id)
                    await connection.execute(
                        "insert into survey_invitation (id, tenant_id, customer_id, status) "
                        "values ($1, $2, $3, 'answered')", invitation, uuid.UUID(tenant_id),
                        uuid.UUID(customer))
                    await connection.executemany(
                        "insert into survey_answer (id, tenant_id, invitation_id, customer_id, "
                        "question_id, question_key, step, kind, value_int, score) "
                        "values ($1, $2, $3, $4, $5, $6, 'overall', 'rating', 4, 75)",
                        [(uuid.uuid4(), uuid.UUID(tenant_id), invitation, uuid.UUID(customer),
                          question, key) for key in KEYS])

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    elapsed, client_cpu = time.perf_counter() - started, time.process_time() - cpu
    backends = [row["pid"] for row in await pool.fetch(
        "select pid from pg_stat_activity where datname = current_database() "
        "and usename = current_user")]
    postgres_cpu = sum(cpu_seconds(pid) for pid in backends)  # fresh: the run's work
    await pool.close()
    return elapsed, {"client": client_cpu, "postgres": postgres_cpu}


async def _analyze(dsn: str) -> None:
    """Statistics for the loaded rows, as a production database has them (autovacuum would
    gather them only some time into the run)."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("analyze")
    finally:
        await connection.close()


def _per_submission(before: dict[str, float], after: dict[str, float],
                    count: int) -> dict[str, float]:
    return {role: round((after[role] - before[role]) * 1000 / count, 2) for role in after}


def main(quick: bool) -> dict[str, object]:
    count = 400 if quick else 3000
    private = PrivateRedis().start()
    try:
        with postgres_database("survey") as database:
            env = database.env(DATABASE_URL=f"{database.app_dsn}?pool_size={POOL_SIZE}",
                               REDIS_URL=private.url, DEALERHUB_REDIS_NAMESPACE=NAMESPACE)
            setup = json.loads(run_python(SETUP.format(keys=KEYS, count=count), env))
            asyncio.run(_analyze(database.owner_dsn))
            stack = Stack(database, private, None, {}, env)
            with serving(stack):
                before = asyncio.run(stack.cpu_seconds())
                ours_seconds, failures, client_cpu = asyncio.run(
                    _through_the_page(stack.bases, setup["tokens"]))
                posted = asyncio.run(stack.cpu_seconds())
                caught_up = asyncio.run(wait_quiet(stack))
                drained = asyncio.run(stack.cpu_seconds())
            bare_seconds, bare_cpu = asyncio.run(_bare(database.app_dsn, setup["tenant_id"],
                                                       setup["customers"]))
    finally:
        private.stop()
    if failures:
        raise SystemExit(f"{failures} submissions failed")
    answers = count * len(KEYS)
    ours, bare = answers / ours_seconds, answers / bare_seconds
    while_posting = _per_submission(before, posted, count)
    in_all = {**_per_submission(before, drained, count),
              "client": round(client_cpu * 1000 / count, 2)}
    bare_cpu_ms = {role: round(seconds * 1000 / count, 2) for role, seconds in bare_cpu.items()}
    cpu_ratio = sum(bare_cpu_ms.values()) / sum(in_all.values())
    print(f"public page : {ours:.0f} answers/s ({count} submissions of {len(KEYS)} answers, "
          f"{CLIENTS} clients over {API_PROCESSES} API processes; integrity checks, events "
          "and facts included)")
    print(f"bare inserts: {bare:.0f} answers/s (asyncpg, one transaction per submission)")
    print(f"ratio       : {ours / bare:.2f} (target >= {TARGET_RATIO})")
    print(f"CPU ms per submission while posting: {while_posting}")
    print(f"CPU ms per submission until the worker caught up ({caught_up:.0f} s after the "
          f"last POST): {in_all} — worker and scheduler share the 2 cores with the API")
    print(f"bare CPU ms per submission: {bare_cpu_ms}; CPU ratio (bare / ours, everything "
          f"counted): {cpu_ratio:.2f}")
    return result("survey_ingest", unit="answers/s", value=ours, baseline=bare,
                  target=TARGET_RATIO, target_on="ratio", better="higher",
                  size={"submissions": count, "answers_per_submission": len(KEYS),
                        "clients": CLIENTS, "api_processes": API_PROCESSES},
                  cpu_ms_per_submission=while_posting,
                  cpu_ms_per_submission_until_caught_up=in_all,
                  worker_caught_up_s=round(caught_up, 1), bare_cpu_ms_per_submission=bare_cpu_ms,
                  cpu_ratio=round(cpu_ratio, 3))
