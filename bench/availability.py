"""Availability search p99 for a dealer with 40 technicians, 30 bays and 60 days booked."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx

from bench.common import ROOT, percentile, postgres_database, result, served

TARGET_P99_MS = 100.0


def setup(env: dict[str, str], days: int, vehicles: int) -> dict[str, object]:
    """The busy dealer, built in its own interpreter (Piccolo binds its engine at import)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench._appointments_setup", str(days), str(vehicles)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code >= 400:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
    return elapsed


def main(quick: bool) -> dict[str, object]:
    days, requests = (10, 150) if quick else (60, 1000)
    rng = random.Random(11)
    with postgres_database("availability") as database:
        env = database.env()
        built = setup(env, days, 300)
        headers = {"Authorization": f"Bearer {built['api_key']}"}
        first_day = date.fromisoformat(str(built["first_day"]))
        vehicles = list(built["vehicle_ids"])  # type: ignore[call-overload]
        jobs = [["OIL"], ["MAINT"], ["BRAKE"], ["ELEC", "AC"], ["TYRE", "OIL"], []]
        with served("dealerhub.app:create_app", env) as base, httpx.Client(
                base_url=base, headers=headers, timeout=30) as client:

            def search() -> float:
                day = first_day + timedelta(days=rng.randrange(days))
                codes = rng.choice(jobs)
                params = [("vehicle_id", rng.choice(vehicles)),
                          ("preferred_at", f"{day}T{rng.randint(8, 16):02d}:"
                                           f"{rng.choice(['00', '30'])}:00"),
                          ("problem", "" if codes else "刹车有异响"),
                          ("loaner", str(rng.random() < 0.2).lower()),
                          ("pickup", str(rng.random() < 0.2).lower())]
                params += [("job_codes", code) for code in codes]
                return timed(client, "GET", "/api/v1/appointments/availability", params=params)

            for _ in range(20):
                search()  # warm-up
                timed(client, "GET", "/api/v1/me")
            samples = [search() for _ in range(requests)]
            baseline = [timed(client, "GET", "/api/v1/me") for _ in range(requests)]
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    base_p99 = percentile(baseline, 99)
    print(f"availability: p50 {p50:.1f} ms p99 {p99:.1f} ms over {requests} searches "
          f"({built['appointments']} appointments in {days} days)")
    print(f"baseline GET /api/v1/me: p99 {base_p99:.1f} ms")
    print(f"target: p99 < {TARGET_P99_MS:.0f} ms")
    return result("availability", unit="ms", value=p99, baseline=base_p99,
                  target=TARGET_P99_MS, target_on="value", better="lower",
                  size={"technicians": 40, "bays": 30, "days_booked": days,
                        "appointments": built["appointments"], "searches": requests},
                  p50_ms=round(p50, 2))
