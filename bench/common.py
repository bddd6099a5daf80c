"""What every benchmark shares: a fresh PostgreSQL database, the app served in a real
process, a load generator, percentiles and the closing JSON line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.http_server import free_port

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get(
    "DEALERHUB_BENCH_PG_ADMIN", "postgresql://postgres@localhost:5432/postgres"
)


def result(
    name: str,
    *,
    unit: str,
    value: float,
    baseline: float | None,
    target: float,
    target_on: str,
    better: str,
    size: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The closing JSON object of ARCHITECTURE.md "Benchmarks"."""
    ratio = None if baseline in (None, 0) else value / baseline  # type: ignore[operator]
    measured = ratio if target_on == "ratio" else value
    passed = measured is not None and (
        measured >= target if better == "higher" else measured <= target
    )
    return {
        "bench": name,
        "unit": unit,
        "value": round(value, 3),
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "target_on": target_on,
        "better": better,
        "passed": passed,
        "size": size,
        **extra,
    }


def emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False), flush=True)


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class BenchDatabase:
    name: str
    app_dsn: str
    owner_dsn: str
    var_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
        env.update(
            {
                "DATABASE_URL": self.app_dsn,
                "MIGRATION_DATABASE_URL": self.owner_dsn,
                "DEALERHUB_VAR_DIR": str(self.var_dir),
                "SECRET_KEY": "b" * 48,
                "CHANNEL_KEY": "c" * 48,
                "DEALERHUB_SECURE_COOKIES": "false",
                "DEALERHUB_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
            }
        )
        env.update(extra)
        return env


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[BenchDatabase]:
    """A fresh, migrated database with the app and owner roles; dropped afterwards."""
    from dealerhub.platform.pg_admin import create_database, drop_database

    name = f"bench_{prefix}_{secrets.token_hex(3)}"
    app_dsn, owner_dsn = asyncio.run(create_database(PG_ADMIN_DSN, name))
    var_dir = Path(tempfile.mkdtemp(prefix=f"dealerhub-bench-{prefix}-"))
    database = BenchDatabase(name, app_dsn, owner_dsn, var_dir)
    try:
        subprocess.run(
            [sys.executable, "-m", "dealerhub.cli", "migrate"],
            env=database.env(),
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        yield database
    finally:
        asyncio.run(drop_database(PG_ADMIN_DSN, name))
        shutil.rmtree(var_dir, ignore_errors=True)


def run_python(code: str, env: dict[str, str]) -> str:
    """Run a snippet in a fresh interpreter with `env` (Piccolo binds its engine at import)."""
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


SERVED_PIDS: dict[str, int] = {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), for CPU cost per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_or_zero(pid: int) -> float:
    """`cpu_seconds`, or 0 for a process (a backend, a child) that has just ended."""
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


async def app_backend_pids(database: BenchDatabase) -> list[int]:
    """The PostgreSQL backends serving the app on `database` (not our owner connection)."""
    import asyncpg

    connection = await asyncpg.connect(database.owner_dsn)
    try:
        return [r["pid"] for r in await connection.fetch(
            "select pid from pg_stat_activity where datname = $1 and usename <> current_user",
            database.name)]
    finally:
        await connection.close()


@contextlib.contextmanager
def served(app: str, env: dict[str, str], *, factory: bool = True) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in its own process; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    SERVED_PIDS[base] = process.pid
    try:
        # start-up imports every component: under a load average of 15–20 on 2 cores it
        # has taken longer than 30 s
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{app} did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str
    requests: int = 0
    server_cpu_ms_per_request: float | None = None


_WRK_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, headers: dict[str, str], seconds: int, connections: int) -> LoadResult:
    """HTTP GET load: wrk where installed (it costs the server little CPU), else Python.

    When the URL is served by `served()`, the server's CPU time per request is measured
    too: unlike throughput it barely moves when other work shares the machine."""
    base = url.split("/", 3)
    pid = SERVED_PIDS.get(f"{base[0]}//{base[2]}")
    cpu_before = cpu_seconds(pid) if pid else None
    figures = _load(url, headers, seconds, connections)
    if pid and cpu_before is not None and figures.requests:
        used_ms = (cpu_seconds(pid) - cpu_before) * 1000
        figures.server_cpu_ms_per_request = used_ms / figures.requests
    return figures


def _load(url: str, headers: dict[str, str], seconds: int, connections: int) -> LoadResult:
    wrk = shutil.which("wrk")
    if wrk:
        command = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", url]
        for key, value in headers.items():
            command += ["-H", f"{key}: {value}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        latencies = {
            m.group(1): _to_ms(m.group(2), m.group(3)) for m in _WRK_LATENCY.finditer(output)
        }
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
        errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        return LoadResult(
            rps,
            latencies.get("50", float("nan")),
            latencies.get("99", float("nan")),
            int(errors_match.group(1)) if errors_match else 0,
            "wrk",
            int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        )
    return asyncio.run(_python_load(url, headers, seconds, connections))


async def _python_load(
    url: str, headers: dict[str, str], seconds: int, connections: int
) -> LoadResult:
    samples: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                errors += 1

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(
        len(samples) / elapsed,
        statistics.median(samples),
        percentile(samples, 99),
        errors,
        "python-httpx",
    )


def median_round(rounds: list[LoadResult]) -> LoadResult:
    """The round with the median throughput (its own latencies travel with it)."""
    ordered = sorted(rounds, key=lambda r: r.requests_per_second)
    return ordered[len(ordered) // 2]
