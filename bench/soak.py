"""Memory of the api, worker and scheduler processes under 10 minutes of steady mixed load.

The same running app and request mix as `load`, at a moderate constant rate. Resident
memory (VmRSS from /proc, the worker's forked processes included) is sampled at the
start, periodically and at the end. It passes when no role grows by more than 10% from
the end of the warm-up (the first fifth of the run: caches and pools fill) to the end,
and under 0.1% of the requests fail.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench._stack import API_PROCESSES, Stack, rss_mb, running_stack, signed_in
from bench._workload import MIX, StepResult, kind_table, open_loop
from bench.common import result
from bench.load import DEMO_DEALERS, load_average, survey_links_needed

RATE = 10.0  # req/s: a fifth of the load target, steady
GROWTH_LIMIT = 0.10
ERROR_LIMIT = 0.001
WARM_UP_SHARE = 0.2


def role_rss(stack: Stack) -> dict[str, float]:
    return {role: sum(rss_mb(pid) for pid in pids)
            for role, pids in stack.processes().items()}


def slope_mb_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB)."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_m = sum(m for _, m in samples) / len(samples)
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread if spread else 0.0


async def soak(stack: Stack, seconds: float,
               interval: float) -> tuple[StepResult, list[tuple[float, dict[str, float]]]]:
    samples: list[tuple[float, dict[str, float]]] = []
    async with signed_in(stack) as (workload, send):
        started = time.monotonic()

        async def sample() -> None:
            while True:
                samples.append((time.monotonic() - started, role_rss(stack)))
                await asyncio.sleep(interval)

        sampler = asyncio.create_task(sample())
        step = await open_loop(workload, send, RATE, seconds)
        sampler.cancel()
        samples.append((time.monotonic() - started, role_rss(stack)))
    return step, samples


def main(quick: bool) -> dict[str, Any]:
    seconds, interval, customers = (60, 5, 30) if quick else (600, 15, 300)
    with running_stack(customers, survey_links_needed(RATE * seconds),
                       20 if quick else 60) as stack:
        load_before = load_average()
        step, samples = asyncio.run(soak(stack, seconds, interval))
    warm = seconds * WARM_UP_SHARE
    print(f"{'t s':>6} " + " ".join(f"{role + ' MB':>13}" for role in samples[0][1]))
    for at, by_role in samples:
        print(f"{at:>6.0f} " + " ".join(f"{mb:>13.1f}" for mb in by_role.values()))
    after = [(at, by_role) for at, by_role in samples if at >= warm]
    growth: dict[str, float] = {}
    print(f"\n{'role':<10} {'start MB':>9} {'warm MB':>9} {'end MB':>9} {'growth':>8} "
          f"{'MB/min':>8}")
    for role in samples[0][1]:
        start, warm_mb, end = samples[0][1][role], after[0][1][role], samples[-1][1][role]
        growth[role] = (end - warm_mb) / warm_mb if warm_mb else 0.0
        slope = slope_mb_per_minute([(at, by_role[role]) for at, by_role in after])
        print(f"{role:<10} {start:>9.1f} {warm_mb:>9.1f} {end:>9.1f} {growth[role]:>7.1%} "
              f"{slope:>8.2f}")
    print(f"\n{step.requests} requests at {RATE:.0f} req/s, p50 {step.p(50):.1f} ms, "
          f"p99 {step.p(99):.1f} ms; load average {load_before} → {load_average()}")
    print(kind_table(step))
    worst = max(growth.values())
    passed_errors = step.errors <= ERROR_LIMIT * step.requests
    payload = result(
        "soak", unit="% RSS growth after warm-up", value=worst * 100, baseline=None,
        target=GROWTH_LIMIT * 100, target_on="value", better="lower",
        size={"seconds": seconds, "rate": RATE, "requests": step.requests,
              "dealers": DEMO_DEALERS, "customers_per_dealer": customers,
              "api_processes": API_PROCESSES, "mix": MIX},
        baseline_reason="memory flatness is judged against the process's own size after "
                        "warm-up",
        rss_mb={role: {"start": round(samples[0][1][role], 1),
                       "after_warm_up": round(after[0][1][role], 1),
                       "end": round(samples[-1][1][role], 1)} for role in growth},
        errors=step.errors, errors_by_kind=step.errors_by_kind(),
    )
    payload["passed"] = payload["passed"] and passed_errors
    return payload
