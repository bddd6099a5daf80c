"""The outbox, the relay, idempotent consumers, and jobs carrying tenant and trace context."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dealerhub.platform import events, jobs, telemetry
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import ApiKey, EventConsumption, EventOutbox, ScheduledRun
from dealerhub.platform.tenancy import current_tenant, tenant_scope

pytestmark = pytest.mark.anyio
seen: list[tuple[str, uuid.UUID | None]] = []
job_context: dict[str, object] = {}


@events.consumer("test.happened", "tests.record")
async def record(event: events.Event) -> None:
    seen.append((event.payload["marker"], current_tenant.get()))


failed_once: set[str] = set()


@events.consumer("test.flaky", "tests.flaky")
async def flaky(event: events.Event) -> None:
    marker = event.payload["marker"]
    if marker.endswith("-bad") and marker not in failed_once:
        failed_once.add(marker)
        raise RuntimeError("this consumer fails the first time")
    seen.append((marker, current_tenant.get()))


@jobs.actor("tests.capture_context", max_retries=0)
async def capture_context(marker: str) -> None:
    span = trace.get_current_span()
    job_context[marker] = (
        format(span.get_span_context().trace_id, "032x"),
        dict(span.attributes or {}),
    )


async def test_event_reaches_its_consumer_once_inside_the_tenant(
    dealer_a, jobs_worker, quiet_outbox
) -> None:
    marker = uuid.uuid4().hex
    async with tenant_scope(dealer_a.id):
        event_id = await events.emit("test.happened", {"marker": marker})
    while await events.relay_once():
        pass
    jobs_worker.drain(timeout_ms=120_000)
    assert (marker, dealer_a.id) in seen
    # a redelivery (at-least-once) has no second effect
    assert await events.handle(event_id, "tests.record") is False
    assert [s for s in seen if s[0] == marker] == [(marker, dealer_a.id)]
    row = await EventOutbox.objects().where(EventOutbox.id == event_id).first()
    assert row.published_at is not None and row.tenant_id == dealer_a.id


async def test_a_failing_event_does_not_hold_up_its_batch(dealer_a, jobs_worker,
                                                          quiet_outbox) -> None:
    """The relay hands a consumer its events in one job, a dealer's in one transaction; when
    one fails that transaction rolls back and each event runs again alone: all are handled,
    each recorded once."""
    marker = uuid.uuid4().hex
    markers = [f"{marker}-1", f"{marker}-bad", f"{marker}-3"]
    async with tenant_scope(dealer_a.id):
        for value in markers:
            await events.emit("test.flaky", {"marker": value})
    while await events.relay_once():
        pass
    jobs_worker.drain(timeout_ms=120_000)
    assert f"{marker}-bad" in failed_once
    assert {s[0] for s in seen if s[0].startswith(marker)} == set(markers)
    rows = await EventOutbox.select(EventOutbox.id).where(EventOutbox.event_type == "test.flaky")
    records = await EventConsumption.count().where(
        (EventConsumption.consumer == "tests.flaky")
        & EventConsumption.event_id.is_in([row["id"] for row in rows]))
    assert records == len(rows)


async def test_a_rolled_back_change_leaves_no_event(dealer_a) -> None:
    marker = uuid.uuid4().hex
    with pytest.raises(RuntimeError):
        async with tenant_scope(dealer_a.id):
            await events.emit("test.happened", {"marker": marker})
            raise RuntimeError("the change failed")
    rows = await EventOutbox.select(EventOutbox.payload).where(
        EventOutbox.event_type == "test.happened"
    )
    assert all(marker not in str(row["payload"]) for row in rows)


async def test_jobs_carry_trace_and_tenant(dealer_a, jobs_worker, quiet_outbox) -> None:
    exporter = InMemorySpanExporter()
    telemetry.setup(get_settings(), extra=SimpleSpanProcessor(exporter))
    tracer = trace.get_tracer("tests")
    marker = uuid.uuid4().hex
    with tracer.start_as_current_span("request") as parent:
        async with tenant_scope(dealer_a.id):
            await ApiKey.count_in_tenant()
            capture_context.send(marker)
        trace_id = format(parent.get_span_context().trace_id, "032x")
    jobs_worker.drain(timeout_ms=120_000)
    job_trace, attributes = job_context[marker]
    assert job_trace == trace_id
    assert attributes["dealerhub.tenant_id"] == str(dealer_a.id)
    sql_spans = [
        s
        for s in exporter.get_finished_spans()
        if s.attributes.get("db.system") in {"sqlite", "postgresql"}
        and s.attributes.get("dealerhub.tenant_id") == str(dealer_a.id)
    ]
    assert sql_spans, "no SQL span inside the tenant scope carried the tenant id"


async def test_a_restarted_scheduler_does_not_rerun_work_started_within_its_cadence(
        database) -> None:
    starts: list[str] = []

    def task(name: str, every_seconds: float) -> jobs.Periodic:
        async def run() -> None:
            starts.append(name)
        return jobs.Periodic(f"tests.{name}.{uuid.uuid4()}", every_seconds, run)

    nightly, relay_like = task("nightly", 24 * 3600), task("relay", 0.5)

    async def run_once() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(jobs.run_scheduler(stop, [nightly, relay_like]))
        await asyncio.sleep(0.3)
        stop.set()
        await runner

    await run_once()
    assert starts == ["nightly", "relay"]
    await run_once()  # a restart: the nightly task started minutes ago, the relay is not kept
    assert starts == ["nightly", "relay", "relay"]
    remembered = await ScheduledRun.objects().where(ScheduledRun.task == nightly.name).first()
    assert remembered is not None
    assert await ScheduledRun.count().where(ScheduledRun.task == relay_like.name) == 0
    await ScheduledRun.update({ScheduledRun.last_started_at: datetime.now(UTC) - timedelta(
        days=1, seconds=1)}).where(ScheduledRun.task == nightly.name)
    await run_once()  # down for longer than the cadence: the missed run happens at once
    assert starts == ["nightly", "relay", "relay", "nightly", "relay"]


async def test_many_events_take_their_ids_and_times_from_the_database(dealer_a) -> None:
    vehicle_id = uuid.uuid4()
    due = datetime(2027, 3, 1, 12, tzinfo=UTC)
    async with tenant_scope(dealer_a.id):
        await events.emit_many("test.bulk", [
            {"vehicle_id": vehicle_id, "expiry": due.date(), "due_at": due, "n": 1},
            {"vehicle_id": None, "ok": True, "items": [vehicle_id]}])
    rows = await EventOutbox.select().where(EventOutbox.event_type == "test.bulk")
    assert len(rows) == 2 and len({row["id"] for row in rows}) == 2
    assert all(row["tenant_id"] == dealer_a.id and row["occurred_at"] is not None
               and row["published_at"] is None for row in rows)
    payloads = sorted((json.loads(row["payload"]) if isinstance(row["payload"], str)
                       else row["payload"] for row in rows), key=len)
    assert payloads == [
        {"vehicle_id": None, "ok": True, "items": [str(vehicle_id)]},
        {"vehicle_id": str(vehicle_id), "expiry": "2027-03-01",
         "due_at": "2027-03-01T12:00:00+00:00", "n": 1}]
