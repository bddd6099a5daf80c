"""Background jobs on Dramatiq: the Redis broker when REDIS_URL is set, otherwise Dramatiq's
own in-process broker and worker so the embedded default needs no server.

Actors are async functions taking ids. Every message carries the caller's tenant id and
trace context in its options; the actor wrapper restores them around the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import async_to_sync, get_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage, Middleware
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import ScheduledRun
from dealerhub.platform.tenancy import current_tenant

log = logging.getLogger(__name__)
tracer = trace.get_tracer("dealerhub.jobs")
CONTEXT_OPTION = "dealerhub_context"
DEFAULT_MAX_RETRIES = 5
REMEMBERED_CADENCE_SECONDS = 60.0


class JobContext(Middleware):
    """Carries the tenant id and the OpenTelemetry trace context into every job."""

    @property
    def actor_options(self) -> set[str]:
        return {CONTEXT_OPTION}

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int
    ) -> None:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        tenant_id = current_tenant.get()
        if tenant_id is not None:
            carrier["tenant_id"] = str(tenant_id)
        message.options.setdefault(CONTEXT_OPTION, carrier)


class DatabasePool(Middleware):
    """Opens the worker event loop's own PostgreSQL pool at boot."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = get_event_loop_thread()
        if get_settings().is_postgres and loop_thread is not None:
            loop_thread.run_coroutine(db.engine().start_connection_pool())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = get_event_loop_thread()
        if get_settings().is_postgres and loop_thread is not None:
            loop_thread.run_coroutine(db.engine().close_connection_pool())


def _make_broker() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        from dramatiq.brokers.redis import RedisBroker

        broker: dramatiq.Broker = RedisBroker(
            url=settings.redis_url, namespace=settings.redis_namespace
        )
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(AsyncIO())
    broker.add_middleware(DatabasePool())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(JobContext())
    return broker


broker = _make_broker()
dramatiq.set_broker(broker)


async def _run_in_context(
    name: str,
    fn: Callable[..., Awaitable[Any]],
    carrier: dict[str, str],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    token = otel_context.attach(propagate.extract(carrier))
    try:
        with tracer.start_as_current_span(f"job {name}") as span:
            if carrier.get("tenant_id"):
                span.set_attribute("dealerhub.tenant_id", carrier["tenant_id"])
            return await fn(*args, **kwargs)
    finally:
        otel_context.detach(token)


def actor(
    name: str,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    queue_name: str = "default",
    **options: Any,
) -> Callable[[Callable[..., Awaitable[Any]]], dramatiq.Actor]:
    """Declare an async actor named `<domain>.<verb>` with a bounded retry count."""

    def decorate(fn: Callable[..., Awaitable[Any]]) -> dramatiq.Actor:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            message = CurrentMessage.get_current_message()
            carrier = dict(message.options.get(CONTEXT_OPTION) or {}) if message else {}
            return async_to_sync(_run_in_context)(name, fn, carrier, args, kwargs)

        run.__wrapped_async__ = fn  # type: ignore[attr-defined]
        return dramatiq.actor(
            run,
            actor_name=name,
            queue_name=queue_name,
            max_retries=max_retries,
            min_backoff=1000,
            max_backoff=300_000,
            **options,
        )

    return decorate


@dataclass
class Periodic:
    name: str
    every_seconds: float
    fn: Callable[[], Awaitable[Any]]


_periodic: dict[str, Periodic] = {}


def periodic(name: str, every_seconds: float) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Register work the single scheduler process runs on a cadence (claiming due rows)."""

    def decorate(fn: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        _periodic[name] = Periodic(name, every_seconds, fn)
        return fn

    return decorate


def periodic_tasks() -> list[Periodic]:
    return list(_periodic.values())


async def _remembered_starts(tasks: list[Periodic]) -> dict[str, datetime]:
    names = [task.name for task in tasks if task.every_seconds >= REMEMBERED_CADENCE_SECONDS]
    if not names:
        return {}
    rows = await ScheduledRun.select(ScheduledRun.task, ScheduledRun.last_started_at).where(
        ScheduledRun.task.is_in(names))
    return {row["task"]: row["last_started_at"] for row in rows}


async def _remember_start(task: Periodic, at: datetime) -> None:
    await ScheduledRun.insert(ScheduledRun(task=task.name, last_started_at=at)).on_conflict(
        target=ScheduledRun.task, action="DO UPDATE", values=[ScheduledRun.last_started_at])


async def _first_runs(tasks: list[Periodic], loop_now: float) -> dict[str, float]:
    """A task of a minute's cadence or more that started less than its cadence ago (before a
    restart) waits out the rest; everything else runs at once."""
    try:
        started = await _remembered_starts(tasks)
    except Exception:
        log.exception("could not read the scheduler's last runs; running every task now")
        started = {}
    wall_now = datetime.now(UTC)
    return {
        task.name: loop_now + max(0.0, task.every_seconds
                                  - (wall_now - started[task.name]).total_seconds())
        if task.name in started else loop_now
        for task in tasks
    }


async def run_scheduler(stop: asyncio.Event, tasks: list[Periodic] | None = None) -> None:
    """Run every periodic task on its cadence until `stop` is set; one failure never stops it."""
    tasks = periodic_tasks() if tasks is None else tasks
    loop = asyncio.get_running_loop()
    next_run = await _first_runs(tasks, loop.time())
    while not stop.is_set():
        now = loop.time()
        for task in tasks:
            if now >= next_run[task.name]:
                next_run[task.name] = now + task.every_seconds
                try:
                    if task.every_seconds >= REMEMBERED_CADENCE_SECONDS:
                        await _remember_start(task, datetime.now(UTC))
                    with tracer.start_as_current_span(f"scheduler {task.name}"):
                        await task.fn()
                except Exception:
                    log.exception("scheduled task %s failed", task.name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.2)


class EmbeddedWorker:
    """Dramatiq's own worker inside this process: the embedded default and the tests."""

    def __init__(self, worker_threads: int = 4) -> None:
        self.worker = dramatiq.Worker(broker, worker_threads=worker_threads, worker_timeout=100)

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def drain(self, timeout_ms: int = 30_000) -> None:
        """Wait until the jobs queued so far have run (tests). Retries waiting out their
        back-off sit on the delay queues and are not waited for."""
        for queue_name in sorted(broker.get_declared_queues()):
            if not queue_name.endswith(".DQ"):
                broker.join(queue_name, timeout=timeout_ms)
