"""The production processes on a database and a Redis the tests may break: the run's private
PostgreSQL cluster, a private redis-server, `dealerhub serve`, the worker and
`dealerhub scheduler`; the Twilio stand-in (`twilio_api`) is the provider."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests import conftest as harness
from tests.channels.conftest import twilio_api  # noqa: F401 - the provider stand-in, shared
from tests.resilience import report
from tests.support.processes import (
    AppServer,
    PrivatePostgres,
    PrivateRedis,
    ServiceProcess,
    WorkerProcess,
)

# A killed worker's claim on a message runs out after this; longer than a provider call
# that times out (10 s), or a slow call would be claimed again while it is still running.
LEASE_SECONDS = 15


@pytest.fixture(scope="session")
def private_postgres() -> PrivatePostgres:
    if harness.PRIVATE_PG is None:
        (pytest.fail if harness.IN_CI else pytest.skip)(harness.PRIVATE_PG_PROBLEM)
    return harness.PRIVATE_PG


class Readiness(threading.Thread):
    """/ready polled every 0.2 s for the whole run: how long it was down, when it was back."""

    def __init__(self, app: AppServer) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.samples: list[tuple[float, int | None]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            asked = time.monotonic()  # the answer is about this moment, however long it took
            self.samples.append((asked, self.app.ready_status()))
            self.stopped.wait(0.2)

    def down_seconds(self, since: float) -> float:
        """How long /ready answered anything but 200 after `since`."""
        samples = [s for s in self.samples if s[0] >= since]
        return sum((b[0] - a[0] for a, b in itertools.pairwise(samples) if a[1] != 200), 0.0)

    def back_after(self, since: float) -> float | None:
        """Seconds from `since` to the first 200 answered after it, if there was one yet."""
        return next((at - since for at, status in list(self.samples)
                     if at >= since and status == 200), None)


@dataclass
class Stack:
    redis: PrivateRedis
    env: dict[str, str]
    app: AppServer = field(init=False)
    worker: WorkerProcess = field(init=False)
    scheduler: ServiceProcess = field(init=False)
    readiness: Readiness = field(init=False)

    def __post_init__(self) -> None:
        self.app = AppServer(self.env)
        self.readiness = Readiness(self.app)
        self.worker = WorkerProcess(self.env, processes=1, threads=4)
        self.scheduler = ServiceProcess.dealerhub("scheduler", env=self.env)

    @property
    def processes(self) -> list[ServiceProcess]:
        return [self.app, self.worker, self.scheduler]

    def start(self) -> Stack:
        for process in self.processes:
            process.start()
        self.app.wait_ready()
        self.worker.wait_ready(self.redis.url, self.env["DEALERHUB_REDIS_NAMESPACE"])
        self.readiness.start()
        return self

    def replace_worker(self) -> None:
        """What the orchestrator does for a dead worker: start another."""
        self.worker = WorkerProcess(self.env, processes=1, threads=4).start()

    def logs(self) -> str:
        return "\n".join(f"--- {' '.join(p.args[-3:])}\n{p.output()}" for p in self.processes)

    def stop(self) -> None:
        self.readiness.stopped.set()
        for process in self.processes:
            process.stop()


@pytest.fixture(scope="session")
def stack(private_postgres: PrivatePostgres) -> Iterator[Stack]:
    redis = PrivateRedis().start()
    env = {"REDIS_URL": redis.url,
           "DEALERHUB_REDIS_NAMESPACE": f"resilience-{secrets.token_hex(4)}",
           "DEALERHUB_CHANNEL_SEND_LEASE_SECONDS": str(LEASE_SECONDS)}
    running = Stack(redis, env)
    try:
        yield running.start()
    finally:
        running.stop()
        redis.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A failing scenario shows what the processes logged."""
    report = yield
    running = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(running, Stack):
        report.sections.append(("dealerhub processes", running.logs()))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if report.ROWS:
        terminalreporter.write_sep("=", "fault injection")
        terminalreporter.write_line(report.write(report.ROWS))
        terminalreporter.write_line(f"(written to {report.REPORT_FILE})")
