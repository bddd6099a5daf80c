"""`dealerhub` command line: demo, serve, migrate, worker, scheduler, seed-demo,
recompute-scores, rotate-channel-keys, backfill-flag-reviews."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from dealerhub.platform.config import SettingsError, load_settings

T = TypeVar("T")


def _settings_or_exit() -> None:
    try:
        load_settings()
    except SettingsError as error:
        print(f"dealerhub: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def migrate() -> None:
    """Apply every component's migrations, connected as the table owner."""
    os.environ["DEALERHUB_MIGRATING"] = "1"
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from dealerhub.platform import db
    from dealerhub.platform.config import get_settings

    async def run() -> None:
        settings = get_settings()
        if not settings.is_postgres:
            db.prepare_sqlite(settings.migration_database_url)
        result = await run_forwards("all")
        if not result.success:
            raise SystemExit(f"dealerhub: migration failed: {result.message}")

    asyncio.run(run())


def _migrate_in_subprocess() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "dealerhub.cli", "migrate"], check=False, stdout=subprocess.DEVNULL
    )
    if completed.returncode:
        raise SystemExit(completed.returncode)


def serve() -> None:
    import uvicorn

    from dealerhub.app import create_app
    from dealerhub.platform.config import get_settings

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=True,
    )


def _with_database(work: Callable[[], Awaitable[T]]) -> T:
    """Run a one-off command's work with the database pool open."""
    from dealerhub.platform import db
    from dealerhub.platform.config import get_settings

    async def run() -> T:
        settings = get_settings()
        await db.start(settings)
        try:
            return await work()
        finally:
            await db.stop(settings)

    return asyncio.run(run())


def seed_demo(seed: int, customers_per_dealer: int) -> bool:
    from dealerhub import demo

    return _with_database(lambda: demo.seed(seed=seed, customers_per_dealer=customers_per_dealer))


def run_demo(seed: int, customers_per_dealer: int) -> None:
    from dealerhub import demo
    from dealerhub.platform.config import get_settings

    settings = get_settings()
    print("dealerhub: applying migrations …", flush=True)
    _migrate_in_subprocess()
    print("dealerhub: loading demo data (first start takes a little while) …", flush=True)
    created = seed_demo(seed, customers_per_dealer)
    print("dealerhub: demo data " + ("created" if created else "already present"))
    print(demo.banner(f"http://{settings.host}:{settings.port}"), flush=True)
    serve()


def worker(processes: int, threads: int) -> None:
    """The Dramatiq worker for production (REDIS_URL set)."""
    from dealerhub.platform.config import get_settings

    if not get_settings().redis_url:
        raise SystemExit("dealerhub: the worker needs REDIS_URL; without it jobs run in `serve`")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "dramatiq",
            "dealerhub.worker",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ],
    )


def scheduler() -> None:
    """The single scheduler: relays events and claims due rows on their cadence."""
    from dealerhub import worker as _components  # noqa: F401 - registers periodic tasks
    from dealerhub.platform import db, jobs, telemetry
    from dealerhub.platform.config import get_settings

    async def run() -> None:
        settings = get_settings()
        telemetry.setup(settings)
        await db.start(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await jobs.run_scheduler(stop)
        finally:
            await db.stop(settings)

    asyncio.run(run())


def recompute_scores(since: date, until: date, dealer_codes: list[str]) -> None:
    """Replay events into scoring facts and rollups (after a metric gets a new version)."""
    from dealerhub.platform.scoring import service

    def say(code: str, events: int) -> None:
        print(f"dealerhub: {code}: {events} events replayed", flush=True)

    try:
        replayed = _with_database(lambda: service.recompute_dealers(
            since, until, dealer_codes or None, say))
    except service.ScoringInputError as error:
        raise SystemExit(f"dealerhub: {error}") from None
    print(f"dealerhub: {len(replayed)} dealers recomputed for [{since}, {until})")


def _each_dealer(work: Callable[[uuid.UUID], Awaitable[int]], done: str) -> int:
    """Run a per-dealer one-off for every dealer, printing what each one did."""
    from dealerhub.platform.directory import for_every_dealer

    def say(code: str, count: int) -> None:
        print(f"dealerhub: {code}: {count} {done}", flush=True)

    return _with_database(lambda: for_every_dealer(work, say))


def rotate_channel_keys() -> None:
    """Re-encrypt every dealer's channel credentials with the first key of CHANNEL_KEY."""
    from dealerhub.channels.credentials.service import rotate_keys

    total = _each_dealer(rotate_keys, "channel accounts re-encrypted")
    print(f"dealerhub: {total} channel accounts now use the first key of CHANNEL_KEY; "
          "the keys after it can be removed")


def backfill_flag_reviews() -> None:
    """Queue for headquarters' review the responses flagged before the queue existed."""
    from dealerhub.survey.integrity.service import backfill_reviews

    total = _each_dealer(backfill_reviews, "flagged responses queued")
    print(f"dealerhub: {total} flagged responses added to headquarters' review queue")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dealerhub", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_cmd = commands.add_parser("demo", help="migrate, load demo data and serve the portal")
    seed_cmd = commands.add_parser("seed-demo", help="load demo data into an empty database")
    for sub in (demo_cmd, seed_cmd):
        sub.add_argument("--seed", type=int, default=2026)
        sub.add_argument("--customers-per-dealer", type=int, default=300)
    commands.add_parser("serve", help="serve HTTP (PORT, default 8000)")
    commands.add_parser("migrate", help="apply database migrations")
    worker_cmd = commands.add_parser("worker", help="run the Dramatiq worker (needs REDIS_URL)")
    worker_cmd.add_argument("--processes", type=int, default=2)
    worker_cmd.add_argument("--threads", type=int, default=4)
    commands.add_parser("scheduler", help="run the single scheduler process")
    recompute_cmd = commands.add_parser(
        "recompute-scores", help="replay events into scoring facts for days in [since, until)")
    recompute_cmd.add_argument("--since", type=date.fromisoformat, required=True,
                               help="first day, YYYY-MM-DD")
    recompute_cmd.add_argument("--until", type=date.fromisoformat, required=True,
                               help="day after the last, YYYY-MM-DD")
    recompute_cmd.add_argument("--dealer", action="append", default=[], dest="dealers",
                               help="a dealer code (repeat for several; default: every dealer)")
    commands.add_parser(
        "rotate-channel-keys",
        help="re-encrypt channel credentials with the first key of CHANNEL_KEY (new,old,…)")
    commands.add_parser(
        "backfill-flag-reviews",
        help="queue for headquarters' review the responses flagged before the queue existed")
    args = parser.parse_args(argv)
    _settings_or_exit()
    if args.command == "demo":
        run_demo(args.seed, args.customers_per_dealer)
    elif args.command == "seed-demo":
        seed_demo(args.seed, args.customers_per_dealer)
    elif args.command == "serve":
        serve()
    elif args.command == "migrate":
        migrate()
    elif args.command == "worker":
        worker(args.processes, args.threads)
    elif args.command == "scheduler":
        scheduler()
    elif args.command == "recompute-scores":
        recompute_scores(args.since, args.until, args.dealers)
    elif args.command == "rotate-channel-keys":
        rotate_channel_keys()
    elif args.command == "backfill-flag-reviews":
        backfill_flag_reviews()


if __name__ == "__main__":
    main()
