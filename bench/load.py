"""Mixed load on the running app: the offered rate at which p99 passes 200 ms.

`dealerhub serve` × 2, `dealerhub worker` and `dealerhub scheduler` on PostgreSQL (fresh
database, app role) and a private redis-server, with the demo data. Open-loop, constant
arrival rate, stepped up until p99 exceeds 200 ms or more than 1% of requests fail: portal
reads (customer search, customer 360, day board, due list) with a signed-in session,
bookings with an API key and Idempotency-Key, survey answers on real signed links, Twilio
status callbacks signed with the account's token. The value is the highest offered rate
that met p99 <= 200 ms with under 1% errors; the steps go on to saturation (errors over 1%,
less than 90% of the offered rate served, or p99 over 2 s) for the rate the app can carry
at all. First, one request at a time, what each request type costs in CPU (api, worker,
scheduler, PostgreSQL): unlike latency that figure barely moves when others load the
machine.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from bench._stack import API_PROCESSES, Stack, running_stack, signed_in, wait_quiet
from bench._workload import MIX, Send, StepResult, Workload, expected_share, kind_table, open_loop
from bench.common import percentile, result

P99_LIMIT_MS = 200.0
ERROR_LIMIT = 0.01
SATURATED_P99_MS = 2000.0
SATURATED_SHARE = 0.9
TARGET = 50.0  # req/s per 2-core node; see bench/README.md for the reasoning
DEMO_DEALERS = 15
CORES = 2


def survey_links_needed(calls: float) -> int:
    """Per dealer, with room for the random spread over dealers and the warm-up."""
    return math.ceil(calls * expected_share("survey_answer") / DEMO_DEALERS * 1.5) + 20


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


def _passes(step: StepResult) -> bool:
    return step.p(99) <= P99_LIMIT_MS and step.errors <= ERROR_LIMIT * step.requests


def _saturated(step: StepResult) -> bool:
    return (step.errors > ERROR_LIMIT * step.requests or step.p(99) > SATURATED_P99_MS
            or step.achieved_rate < SATURATED_SHARE * step.offered_rate)


def _cpu_ms(cpu: dict[str, float], requests: int) -> dict[str, float]:
    per = {role: seconds * 1000 / max(requests, 1) for role, seconds in cpu.items()}
    return {**per, "total": sum(per.values())}


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: after[role] - before.get(role, 0.0) for role in after}


async def cost_pass(stack: Stack, workload: Workload, send: Send,
                    per_kind: int) -> dict[str, dict[str, float]]:
    """Each request type alone, one request at a time, then until the worker is idle:
    latency without queueing and CPU per request by role. The scheduler's share is mostly
    its polling during the wait, not the requests."""
    costs: dict[str, dict[str, float]] = {}
    print(f"{'request':<16} {'p50 ms':>7} {'api':>6} {'worker':>7} {'sched':>6} {'pg':>6} "
          f"{'total':>6}  (CPU ms per request, one at a time)", flush=True)
    for kind in MIX:
        for _ in range(2 * API_PROCESSES):  # first use in each process: lazy imports, caches
            await send(getattr(workload, kind)(workload.rng.choice(workload.plans)))
        await wait_quiet(stack)
        before = await stack.cpu_seconds()
        latencies, failures = [], 0
        for _ in range(per_kind):
            call = getattr(workload, kind)(workload.rng.choice(workload.plans))
            started = time.perf_counter()
            reply = await send(call)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += reply.status != call.ok
        await wait_quiet(stack)
        cpu = _cpu_ms(_delta(before, await stack.cpu_seconds()), per_kind)
        costs[kind] = {"p50_ms": round(percentile(latencies, 50), 1), "failures": failures,
                       **{role: round(ms, 2) for role, ms in cpu.items()}}
        print(f"{kind:<16} {costs[kind]['p50_ms']:>7.1f} {cpu['api']:>6.1f} "
              f"{cpu['worker']:>7.1f} {cpu['scheduler']:>6.1f} {cpu['postgres']:>6.1f} "
              f"{cpu['total']:>6.1f}" + (f"  {failures} failed" if failures else ""),
              flush=True)
    return costs


async def step_up(stack: Stack, rates: list[float], seconds: float,
                  per_kind: int) -> tuple[dict[str, dict[str, float]], list[StepResult]]:
    steps: list[StepResult] = []
    async with signed_in(stack) as (workload, send):
        costs = await cost_pass(stack, workload, send, per_kind)
        print(f"\n{'offered':>8} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
              f"{'api CPU':>8} {'all CPU':>8} {'load':>6}   (CPU ms per request)", flush=True)
        for rate in rates:
            before = await stack.cpu_seconds()
            step = await open_loop(workload, send, rate, seconds)
            step.cpu_seconds = _delta(before, await stack.cpu_seconds())
            steps.append(step)
            cpu = _cpu_ms(step.cpu_seconds, step.requests)
            print(f"{step.offered_rate:>8.0f} {step.achieved_rate:>9.1f} {step.p(50):>8.1f} "
                  f"{step.p(99):>8.1f} {step.errors:>7} {cpu['api']:>8.1f} "
                  f"{cpu['total']:>8.1f} {load_average():>6}", flush=True)
            if _saturated(step):
                break
            await wait_quiet(stack)
    return costs, steps


def main(quick: bool) -> dict[str, Any]:
    rates, seconds, customers, per_kind = (
        ([2, 5, 10, 20, 40, 60, 80], 10, 30, 10) if quick else
        ([1, 2, 5, 10, 15, 20, 30, 40, 60, 80, 100], 30, 300, 30))
    links = survey_links_needed(sum(rates) * seconds) + per_kind + 2 * API_PROCESSES
    with running_stack(customers, links, 20 if quick else 60) as stack:
        costs, steps = asyncio.run(step_up(stack, rates, seconds, per_kind))
    passing = [s for s in steps if _passes(s)]
    best = max(passing, key=lambda s: s.offered_rate) if passing else None
    carried = [s for s in steps if not _saturated(s)]
    saturation = max((s.achieved_rate for s in carried), default=0.0)
    for shown in ([best] if best is not None and best is not steps[-1] else []) + steps[-1:]:
        print(f"\nper request type at {shown.offered_rate:.0f} req/s offered:")
        print(kind_table(shown))
    # during the steps the worker's share lags behind its requests; over all steps it evens out
    total_cpu = sum(sum(s.cpu_seconds.values()) for s in steps) * 1000
    cpu_per_request = total_cpu / sum(s.requests for s in steps)
    ceiling = CORES * 1000 / cpu_per_request
    print(f"\nall app processes and PostgreSQL: {cpu_per_request:.1f} CPU ms per request of "
          f"the mix → at most {ceiling:.0f} req/s on {CORES} otherwise idle cores; carried "
          f"{saturation:.1f} req/s before saturating on this machine")
    return result(
        "load", unit="req/s", value=best.offered_rate if best else 0.0, baseline=None,
        target=TARGET, target_on="value", better="higher",
        size={"dealers": DEMO_DEALERS, "customers_per_dealer": customers,
              "step_seconds": seconds, "api_processes": API_PROCESSES, "mix": MIX},
        baseline_reason="no bare system does this mix; the per-endpoint benchmarks carry "
                        "baselines",
        first_failing_rate=next((s.offered_rate for s in steps if not _passes(s)), None),
        carried_rate=round(saturation, 1),
        cpu_ms_per_request=round(cpu_per_request, 1), cpu_bound_ceiling=round(ceiling, 1),
        load_average=load_average(), costs=costs,
        steps=[{"offered": s.offered_rate, "achieved": round(s.achieved_rate, 1),
                "p50_ms": round(s.p(50), 1), "p99_ms": round(s.p(99), 1),
                "requests": s.requests, "errors": s.errors_by_kind()} for s in steps],
    )
