"""Booking throughput with 50 concurrent clients vs bare appointment inserts (PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import ROOT, postgres_database, result

TARGET_RATIO = 0.3
CLIENTS = 50


def main(quick: bool) -> dict[str, object]:
    bookings, days = (600, 3) if quick else (3000, 14)
    with postgres_database("booking") as database:
        env = database.env(DATABASE_URL=f"{database.app_dsn}?pool_size={CLIENTS}",
                           BARE_DSN=database.app_dsn)
        completed = subprocess.run(
            [sys.executable, "-m", "bench._booking_load", str(bookings), str(days)],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    run = json.loads(completed.stdout.strip().splitlines()[-1])
    if run["booking_failures"] or run["bare_failures"]:
        raise SystemExit(f"failures during the run: {run}")
    ours = run["bookings"] / run["booking_seconds"]
    bare = run["bookings"] / run["bare_seconds"]
    print(f"booking service: {ours:.0f} bookings/s ({run['bookings']} bookings, "
          f"{CLIENTS} clients, {run['existing']} existing appointments)")
    print(f"bare inserts   : {bare:.0f} inserts/s (asyncpg, same pool size)")
    per = {name: 1000 * run[f"{name}_cpu_seconds"] / run["bookings"]
           for name in ("booking", "bare")}
    print(f"client CPU     : {per['booking']:.2f} ms per booking vs {per['bare']:.2f} ms per "
          f"bare insert (ratio {per['bare'] / per['booking']:.2f})")
    if run["booking_server_cpu_seconds"] is not None:
        server = {name: 1000 * run[f"{name}_server_cpu_seconds"] / run["bookings"]
                  for name in ("booking", "bare")}
        print(f"server CPU     : {server['booking']:.2f} ms per booking vs "
              f"{server['bare']:.2f} ms per bare insert (PostgreSQL backends; ratio "
              f"{(per['bare'] + server['bare']) / (per['booking'] + server['booking']):.2f} "
              "of client + server)")
    print(f"ratio          : {ours / bare:.2f} (target >= {TARGET_RATIO})")
    return result("booking", unit="bookings/s", value=ours, baseline=bare,
                  target=TARGET_RATIO, target_on="ratio", better="higher",
                  size={"bookings": run["bookings"], "clients": CLIENTS,
                        "existing_appointments": run["existing"]})
