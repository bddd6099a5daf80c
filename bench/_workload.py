"""The mixed request stream of the load and soak benchmarks, and the open-loop driver.

A `Workload` turns the dealers' plans into requests a real client would send: portal reads
with each dealer's signed-in session, bookings with an API key and an `Idempotency-Key`
(every tenth one a retry of an earlier booking), survey answers posted to real signed
links, and Twilio status callbacks signed as Twilio signs them. `open_loop` sends them at
a constant arrival rate whatever the latency (latency counts from the moment a request was
due, so a slow server cannot slow the clock down), through any `Send` function: aiohttp
against served processes in the benchmarks, the in-process ASGI client in the test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from twilio.request_validator import RequestValidator

from bench._load_setup import DealerPlan
from bench.common import percentile

# kind → share of the requests
MIX = {
    "customer_search": 20,
    "customer_360": 20,
    "day_board": 10,
    "due_list": 10,
    "booking": 10,
    "survey_answer": 15,
    "twilio_callback": 15,
}
SURVEY_ANSWERS = {"q_overall.csat": "4", "q_reception.prompt": "5", "q_overall.comment": "服务很好"}
BOOKING_JOB = "DIAG"  # 60 minutes, general skill: any demo technician and bay
BOOKING_STARTS = ["08:30", "09:45", "11:00", "12:15", "13:30", "14:45", "16:00"]
FIRST_BOOKING_DAY = 14  # after the demo's own bookings (the coming week)
REPLAY_EVERY = 10
REQUEST_TIMEOUT = 10.0
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    ok: int = 200


@dataclass(frozen=True)
class Reply:
    status: int
    set_cookies: list[str]


Send = Callable[[Call], Awaitable[Reply]]


def cookie_from(reply: Reply, name: str) -> str:
    for header in reply.set_cookies:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar and jar[name].value:
            return jar[name].value
    raise RuntimeError(f"no {name} cookie in the reply (status {reply.status})")


def expected_share(kind: str) -> float:
    return MIX[kind] / sum(MIX.values())


class Workload:
    """Deterministic (seeded) request stream over the dealers' plans."""

    def __init__(self, plans: list[DealerPlan], password: str, public_base_url: str,
                 twilio_token: str, seed: int = 10) -> None:
        self.plans = plans
        self.password = password
        self.public_base_url = public_base_url.rstrip("/")
        self.validator = RequestValidator(twilio_token)
        self.rng = random.Random(seed)
        self.kinds = list(MIX)
        self.weights = list(MIX.values())
        self.sessions: dict[str, str] = {}
        self.csrf = ""
        self.surveys = {p.tenant_id: iter(p.survey_tokens) for p in plans}
        self.slots = {p.tenant_id: self._slots(p) for p in plans}
        self.booked: list[Call] = []
        self.bookings = 0
        self.callbacks = itertools.cycle(
            [(p, i) for i in range(max(len(p.callbacks) for p in plans)) for p in plans
             if i < len(p.callbacks)])

    async def sign_in(self, send: Send) -> None:
        """One portal session per dealer through the real login form (CSRF included)."""
        login_page = await send(Call("sign_in", "GET", "/login", {}))
        self.csrf = cookie_from(login_page, "dh_csrf")
        for plan in self.plans:
            form = urlencode({"email": plan.login_email, "password": self.password,
                              "_csrf_token": self.csrf}).encode()
            reply = await send(Call("sign_in", "POST", "/login", {
                "Content-Type": FORM, "Cookie": f"dh_csrf={self.csrf}"}, form, ok=303))
            if reply.status != 303:
                raise RuntimeError(f"{plan.login_email} could not sign in: {reply.status}")
            self.sessions[plan.tenant_id] = cookie_from(reply, "dh_session")

    def next_call(self) -> Call:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return getattr(self, kind)(self.rng.choice(self.plans))

    def _page(self, kind: str, plan: DealerPlan, path: str) -> Call:
        return Call(kind, "GET", path, {"Cookie": f"dh_session={self.sessions[plan.tenant_id]}",
                                        "Accept": "text/html"})

    def customer_search(self, plan: DealerPlan) -> Call:
        term = quote(self.rng.choice(plan.search_terms))
        return self._page("customer_search", plan, f"/customers?q={term}")

    def customer_360(self, plan: DealerPlan) -> Call:
        return self._page("customer_360", plan, f"/customers/{self.rng.choice(plan.customer_ids)}")

    def day_board(self, plan: DealerPlan) -> Call:
        day = datetime.now(ZoneInfo(plan.time_zone)).date() + timedelta(
            days=self.rng.randint(0, 6))
        return self._page("day_board", plan, f"/appointments/board?day={day.isoformat()}")

    def due_list(self, plan: DealerPlan) -> Call:
        return self._page("due_list", plan, "/due-lists")

    @staticmethod
    def _slots(plan: DealerPlan) -> Iterator[tuple[datetime, str]]:
        """Free targets in order: working days from two weeks on, each start, each bay's
        technician: no two bookings of the run want the same technician at the same time."""
        zone = ZoneInfo(plan.time_zone)
        day = datetime.now(zone).date() + timedelta(days=FIRST_BOOKING_DAY)
        while True:
            if day.weekday() < 6:
                for start in BOOKING_STARTS:
                    moment = datetime.combine(day, datetime.strptime(start, "%H:%M").time(),
                                              zone)
                    for technician in plan.technician_ids:
                        yield moment, technician
            day += timedelta(days=1)

    def booking(self, plan: DealerPlan) -> Call:
        self.bookings += 1
        if self.booked and self.bookings % REPLAY_EVERY == 0:
            return self.rng.choice(self.booked)  # a client retrying: the first answer again
        starts_at, technician = next(self.slots[plan.tenant_id])
        body = json.dumps({"vehicle_id": self.rng.choice(plan.vehicle_ids),
                           "starts_at": starts_at.isoformat(), "job_codes": [BOOKING_JOB],
                           "technician_id": technician}).encode()
        call = Call("booking", "POST", "/api/v1/appointments", {
            "Authorization": f"Bearer {plan.api_key}", "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4())}, body, ok=201)
        self.booked.append(call)
        return call

    def survey_answer(self, plan: DealerPlan) -> Call:
        token = next(self.surveys[plan.tenant_id], None)
        if token is None:
            raise RuntimeError("the plan has too few survey invitations for this run")
        form = urlencode({**SURVEY_ANSWERS, "_csrf_token": self.csrf}).encode()
        return Call("survey_answer", "POST", f"/c/survey/{token}",
                    {"Content-Type": FORM, "Cookie": f"dh_csrf={self.csrf}"}, form)

    def twilio_callback(self, _: DealerPlan) -> Call:
        """The sending dealer's callback URL as the worker gave it to Twilio: first pass
        `sent`, then `delivered` (and again, as Twilio retries)."""
        plan, index = next(self.callbacks)
        message_id, sid = plan.callbacks[index]
        status = "sent" if self.rng.random() < 0.3 else "delivered"
        path = f"/hooks/channels/twilio_sms/{plan.tenant_id}?message_id={message_id}"
        params = {"MessageSid": sid, "MessageStatus": status, "SmsSid": sid,
                  "SmsStatus": status, "ApiVersion": "2010-04-01"}
        signature = self.validator.compute_signature(self.public_base_url + path, params)
        return Call("twilio_callback", "POST", path,
                    {"Content-Type": FORM, "X-Twilio-Signature": signature},
                    urlencode(params).encode())


@dataclass
class KindStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class StepResult:
    offered_rate: float
    seconds: float
    elapsed: float
    kinds: dict[str, KindStats]
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by role, during the step

    @property
    def latencies(self) -> list[float]:
        return [ms for stats in self.kinds.values() for ms in stats.latencies_ms]

    @property
    def requests(self) -> int:
        return sum(s.count for s in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(s.error_count for s in self.kinds.values())

    @property
    def achieved_rate(self) -> float:
        return (self.requests - self.errors) / self.elapsed if self.elapsed else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def errors_by_kind(self) -> dict[str, dict[str, int]]:
        return {kind: s.errors for kind, s in self.kinds.items() if s.errors}


async def open_loop(workload: Workload, send: Send, rate: float, seconds: float,
                    max_in_flight: int = 400) -> StepResult:
    """`rate` arrivals a second for `seconds`, each sent on time whether or not earlier
    ones have been answered; beyond `max_in_flight` open requests an arrival is an error."""
    kinds: dict[str, KindStats] = {kind: KindStats() for kind in MIX}
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def one(call: Call, due: float) -> None:
        stats = kinds[call.kind]
        try:
            reply = await asyncio.wait_for(send(call), REQUEST_TIMEOUT)
            if reply.status != call.ok:
                stats.errors[str(reply.status)] = stats.errors.get(str(reply.status), 0) + 1
        except TimeoutError:
            stats.errors["timeout"] = stats.errors.get("timeout", 0) + 1
        except Exception as error:  # a refused or reset connection is an error, not a crash
            name = type(error).__name__
            stats.errors[name] = stats.errors.get(name, 0) + 1
        stats.latencies_ms.append((loop.time() - due) * 1000)

    started = loop.time()
    for number in range(int(rate * seconds)):
        due = started + number / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        call = workload.next_call()
        if len(pending) >= max_in_flight:
            kinds[call.kind].errors["overload"] = kinds[call.kind].errors.get("overload", 0) + 1
            kinds[call.kind].latencies_ms.append(REQUEST_TIMEOUT * 1000)
            continue
        task = asyncio.create_task(one(call, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    return StepResult(rate, seconds, loop.time() - started, kinds)


def kind_table(step: StepResult) -> str:
    lines = [f"{'request':<16} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}  errors"]
    for kind, stats in step.kinds.items():
        if not stats.count:
            continue
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(stats.errors.items())) or "0"
        lines.append(f"{kind:<16} {stats.count:>6} {percentile(stats.latencies_ms, 50):>8.1f} "
                     f"{percentile(stats.latencies_ms, 99):>8.1f}  {errors}")
    return "\n".join(lines)

