"""Fault injection with the real processes: PostgreSQL crashed and restarted during a
booking burst, Redis stopped and started during a message burst, a worker SIGKILLed
mid-send, a provider answering slowly and with 5xx. After each: no booking lost or doubled,
no message lost, at most one message per message id at the provider, and the app ready
again by itself. Each scenario adds a row to the table printed at the end of the run."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.messages.tables import Message
from dealerhub.channels.plugin import PROVIDER_TIMEOUT_SECONDS
from dealerhub.platform.appointments.tables import Appointment, IdempotencyKey
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.tables import EventConsumption, EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from tests.channels.conftest import SERVICE, new_customer, save_account
from tests.conftest import create_dealer
from tests.platform.appointments.conftest import build_shop, future_day
from tests.resilience.conftest import Stack
from tests.resilience.report import ROWS, Row
from tests.support.processes import PrivatePostgres
from tests.support.twilio_standin import TwilioStandIn

pytestmark = [pytest.mark.anyio, pytest.mark.resilience]
BOOKINGS = 120
CLIENTS = 12
MESSAGES_PER_WAVE = 60
DEADLINE_SECONDS = 150  # for the client's retries and for the backlog to clear


async def until(check: Callable[[], bool | Awaitable[bool]], what: str,
                seconds: float = DEADLINE_SECONDS) -> float:
    """Poll `check` (plain or async) until true; returns the seconds it took."""
    started = time.monotonic()
    while not await _value(check()):
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def _value(answer: bool | Awaitable[bool]) -> bool:
    return await answer if inspect.isawaitable(answer) else answer


class Clock:
    """A scenario's times: started, fault removed (`heal`), /ready back, caught up."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.started = self.healed = time.monotonic()
        self.ready_after = 0.0

    async def heal(self) -> None:
        """The fault is gone: wait for /ready 200 (the app is never restarted)."""
        self.healed = time.monotonic()
        await until(lambda: self.stack.readiness.back_after(self.healed) is not None,
                    "/ready answering 200 again")
        self.ready_after = self.stack.readiness.back_after(self.healed) or 0.0

    def times(self) -> tuple[float, float, float]:
        """For the table: not ready, ready after, caught up (until now)."""
        return (self.stack.readiness.down_seconds(self.started), self.ready_after,
                time.monotonic() - self.healed)


# --- bookings -----------------------------------------------------------------------------

@dataclass
class Booking:
    """One booking request as a real client makes it: retried with the same key on 5xx or
    a broken connection until it gets an answer."""

    key: str
    payload: dict[str, object]
    appointment_id: str | None = None
    tries: int = 0
    refused: str = ""


async def book(http: httpx.AsyncClient, api_key: str, booking: Booking, deadline: float) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": booking.key}
    while time.monotonic() < deadline:
        booking.tries += 1
        try:
            response = await http.post("/api/v1/appointments", json=booking.payload,
                                       headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.3)
            continue
        if response.status_code < 300:
            booking.appointment_id = response.json()["id"]
            return
        if response.status_code < 500 and response.status_code != 429:
            booking.refused = f"{response.status_code} {response.text[:200]}"
            return
        await asyncio.sleep(0.3)


async def booking_burst(url: str, api_key: str, bookings: list[Booking]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    gate = asyncio.Semaphore(CLIENTS)

    async def one(booking: Booking) -> None:
        async with gate:
            await book(http, api_key, booking, deadline)

    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 limits=httpx.Limits(max_connections=CLIENTS)) as http:
        await asyncio.gather(*(one(b) for b in bookings))


async def test_postgres_restarted_during_a_booking_burst(
        stack: Stack, private_postgres: PrivatePostgres) -> None:
    clock = Clock(stack)
    shop = await build_shop(technicians=2)
    api_key = (await create_api_key(shop.tenant_id, "burst", ["appointments"], None)).plaintext
    # one slot an hour over twelve days: every request can succeed, none competes
    bookings = [Booking(str(uuid.uuid4()), {
        "vehicle_id": str(shop.vehicle_id), "job_codes": ["OIL"],
        "starts_at": shop.local(future_day(3 + n // 10), 8 + n % 10).isoformat()})
        for n in range(BOOKINGS)]
    burst = asyncio.create_task(booking_burst(stack.app.url, api_key, bookings))

    await until(lambda: sum(b.appointment_id is not None for b in bookings) >= BOOKINGS // 4,
                "a quarter of the bookings")
    await asyncio.to_thread(private_postgres.stop, "immediate")  # a crash: backends killed
    await asyncio.sleep(3)
    await asyncio.to_thread(private_postgres.start)
    await clock.heal()
    await burst
    times = clock.times()

    async with tenant_scope(shop.tenant_id, write=False):
        stored = {str(r["id"]) for r in await Appointment.select_in_tenant(Appointment.id)}
        keyed = {r["key"]: str(r["appointment_id"]) for r in
                 await IdempotencyKey.select_in_tenant(IdempotencyKey.key,
                                                       IdempotencyKey.appointment_id)}
    answered = [b for b in bookings if b.appointment_id]
    lost = [b for b in answered if b.appointment_id not in stored]
    mismatched = [b for b in answered if keyed.get(b.key) != b.appointment_id]
    duplicated = len(stored) - len(keyed)
    ROWS.append(Row("PostgreSQL crash + restart during bookings", BOOKINGS,
                    sum(b.tries - 1 for b in bookings), BOOKINGS - len(answered), len(lost),
                    duplicated, *times))
    assert not [b.refused for b in bookings if b.refused], "a booking was refused"
    assert len(answered) == BOOKINGS, stack.logs()
    assert not lost and not mismatched and duplicated == 0
    assert sum(b.tries for b in bookings) > BOOKINGS, "the crash did not touch the burst"

    booked = (EventOutbox.tenant_id == shop.tenant_id) & (
        EventOutbox.event_type == "appointment.booked")

    async def handled() -> bool:  # the scheduler relayed every event, the worker consumed it
        ids = {r["id"] for r in await EventOutbox.select(EventOutbox.id).where(booked)}
        done = await EventConsumption.select(EventConsumption.event_id).where(
            EventConsumption.event_id.is_in(list(ids)))
        return len(ids) == len(stored) and {r["event_id"] for r in done} == ids

    await until(handled, "the scheduler and the worker handling the bookings' events")


# --- messages -----------------------------------------------------------------------------

class Outbound:
    """A dealer sending service messages over Twilio (the stand-in), and what came of them."""

    def __init__(self, stack: Stack, twilio: TwilioStandIn) -> None:
        self.clock = Clock(stack)
        self.twilio = twilio
        self.ids: list[str] = []
        self.dealer_id: uuid.UUID | None = None
        self.customer_id: uuid.UUID | None = None

    async def setup(self) -> Outbound:
        sid, token = self.twilio.add_account()
        dealer = await create_dealer()
        self.dealer_id = dealer.id
        await save_account(dealer.id, "twilio_sms", {
            "account_sid": sid, "auth_token": token, "from_number": "+8610690000",
            "api_base_url": self.twilio.url})
        self.customer_id = await new_customer(dealer.id)
        return self

    async def wave(self, count: int = MESSAGES_PER_WAVE) -> None:
        """`count` messages decided and queued at once, as a campaign step would."""
        sent = await asyncio.gather(*(channels.enqueue_message(
            self.dealer_id, self.customer_id, "service", SERVICE, {"vehicle": "TXL"},
            channel="sms") for _ in range(count)))
        self.ids += [str(m.id) for m in sent]

    async def statuses(self) -> dict[str, str]:
        async with tenant_scope(self.dealer_id, write=False):
            rows = await Message.select_in_tenant(Message.id, Message.status)
        return {str(r["id"]): r["status"] for r in rows}

    async def all_sent(self) -> bool:
        return sum(s == "sent" for s in (await self.statuses()).values()) == len(self.ids)

    def calls(self) -> list[str]:
        """The idempotency token (our message id) of every call that reached the provider."""
        ours = set(self.ids)
        return [token for r in self.twilio.requests
                if (token := r.headers.get("I-Twilio-Idempotency-Token")) in ours]

    def created(self) -> list[str]:
        ours = set(self.ids)
        return [token for r in self.twilio.sent
                if (token := r.headers.get("I-Twilio-Idempotency-Token")) in ours]

    async def row(self, scenario: str) -> None:
        statuses = await self.statuses()
        created = self.created()
        ROWS.append(Row(scenario, len(self.ids), len(self.calls()) - len(set(self.calls())),
                        sum(statuses.get(i) == "failed" for i in self.ids),
                        sum(statuses.get(i) != "sent" for i in self.ids),
                        len(created) - len(set(created)), *self.clock.times()))

    async def recovered(self, scenario: str) -> None:
        """The fault is gone: /ready, every message sent, the table row, and exactly one
        message created at the provider per message id."""
        await self.clock.heal()
        try:
            await until(self.all_sent, "every message sent")
        finally:
            await self.row(scenario)
        assert sorted(self.created()) == sorted(self.ids), "not one provider message per id"


async def test_redis_stopped_and_started_during_a_message_burst(
        stack: Stack, twilio_api: TwilioStandIn) -> None:
    outbound = await Outbound(stack, twilio_api).setup()
    twilio_api.delay = 3.0  # the worker falls behind: jobs wait in Redis when it goes
    try:
        await outbound.wave()
        stack.redis.stop()
        await outbound.wave()  # decided while Redis is down: waits in the database
        await until(lambda: stack.readiness.down_seconds(outbound.clock.started) > 3,
                    "/ready down for 3 s")
        await asyncio.to_thread(stack.redis.start)  # back on the same port, empty
    finally:
        twilio_api.delay = 0.0
    await outbound.recovered("Redis stopped and started (empty) during messages")
    assert stack.worker.running and stack.scheduler.running, stack.logs()


async def test_worker_killed_mid_send(stack: Stack, twilio_api: TwilioStandIn) -> None:
    outbound = await Outbound(stack, twilio_api).setup()
    twilio_api.delay = 3.0  # the provider holds the requests: the worker is mid-send
    try:
        await outbound.wave()
        await until(lambda: bool(outbound.calls()), "a send reaching Twilio")
        stack.worker.kill()
    finally:
        twilio_api.delay = 0.0
    stack.replace_worker()
    await outbound.recovered("worker SIGKILLed mid-send, replaced")


async def test_provider_answering_slower_than_our_timeout(
        stack: Stack, twilio_api: TwilioStandIn) -> None:
    outbound = await Outbound(stack, twilio_api).setup()
    twilio_api.delay = PROVIDER_TIMEOUT_SECONDS + 2  # we give up; the provider still sends
    try:
        await outbound.wave()

        async def all_timed_out() -> bool:
            return set(outbound.calls()) == set(outbound.ids) and all(
                s == "queued" for s in (await outbound.statuses()).values())

        await until(all_timed_out, "every first send timing out")
    finally:
        twilio_api.delay = 0.0
    await outbound.recovered(f"provider slower than the {PROVIDER_TIMEOUT_SECONDS:.0f} s timeout")


async def test_provider_answering_5xx(stack: Stack, twilio_api: TwilioStandIn) -> None:
    outbound = await Outbound(stack, twilio_api).setup()
    twilio_api.fail_next(500, times=MESSAGES_PER_WAVE // 2)
    twilio_api.fail_next(503, times=MESSAGES_PER_WAVE // 2)
    await outbound.wave()
    await until(lambda: len(outbound.calls()) >= len(outbound.ids),
                "every first send answered with 5xx")
    await outbound.recovered("provider answering 500/503")
