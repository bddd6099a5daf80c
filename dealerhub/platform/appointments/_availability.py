"""Availability: which start times have a skilled technician on shift, a bay, and (when
asked) a loaner car and a pick-up driver free, within opening hours and off holidays.

The search is a pure function of a capacity snapshot and the held cells, so the booking
transaction re-runs exactly the same check on fresh data before it writes its holds.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments._capacity import (
    HOLD_CELL,
    QUICK_SERVICE_MAX_MINUTES,
    Capacity,
    CapacityError,
    Job,
    Tech,
    load_capacity,
)
from dealerhub.platform.appointments.schemas import AvailabilityQuery
from dealerhub.platform.appointments.tables import Appointment
from dealerhub.platform.tenancy import require_tenant, tenant_scope

EARTH_RADIUS_KM = 6371.0088
PREFERRED_WINDOW = timedelta(days=1)
DIAGNOSIS_JOB = "DIAG"

BAY_STRIDE = 7919  # a prime: successive retries start the bay round far apart
Busy = dict[uuid.UUID, set[int]]  # resource id -> start (epoch seconds) of each held cell


class NotFoundError(LookupError):
    """A referenced object does not exist in this dealer (another dealer's is the same)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def cells(start: datetime, end: datetime) -> range:
    """The hold cells that intersect [start, end)."""
    first = int(start.timestamp()) // HOLD_CELL * HOLD_CELL
    return range(first, math.ceil(end.timestamp()), HOLD_CELL)


@dataclass(frozen=True)
class Need:
    jobs: tuple[Job, ...]
    minutes: int
    skills: frozenset[str]
    quick: bool
    mobile: bool
    loaner: bool
    pickup: bool

    @property
    def codes(self) -> list[str]:
        return [job.code for job in self.jobs]

    @property
    def labour_fen(self) -> int:
        return sum(job.labour_fen for job in self.jobs)

    @property
    def parts_fen(self) -> int:
        return sum(job.parts_fen for job in self.jobs)


def map_problem(cap: Capacity, problem: str) -> list[str]:
    """Job codes whose keywords occur in a free-text problem; else diagnosis, if offered."""
    lowered = problem.lower()
    hits = [job.code for job in cap.jobs.values() if any(k in lowered for k in job.keywords)]
    if not hits and DIAGNOSIS_JOB in cap.jobs:
        hits = [DIAGNOSIS_JOB]
    if not hits:
        raise CapacityError("problem", "could not match the problem to a job; choose job codes")
    return hits


def need_for(cap: Capacity, job_codes: list[str], problem: str, *, mobile: bool = False,
             loaner: bool = False, pickup: bool = False) -> Need:
    codes = list(dict.fromkeys(code.strip().upper() for code in job_codes if code.strip()))
    if not codes and problem.strip():
        codes = map_problem(cap, problem)
    if not codes:
        raise CapacityError("job_codes", "choose at least one job or describe the problem")
    unknown = [code for code in codes if code not in cap.jobs]
    if unknown:
        raise CapacityError("job_codes", f"{', '.join(unknown)}: not offered by this dealer")
    jobs = tuple(cap.jobs[code] for code in codes)
    if mobile and not all(job.mobile for job in jobs):
        names = ", ".join(job.code for job in jobs if not job.mobile)
        raise CapacityError("mobile", f"{names}: cannot be done by mobile service")
    minutes = sum(job.minutes for job in jobs)
    return Need(jobs, minutes, frozenset(job.skill for job in jobs),
                minutes <= QUICK_SERVICE_MAX_MINUTES, mobile, loaner, pickup)


@dataclass(frozen=True)
class Assignment:
    starts_at: datetime
    ends_at: datetime
    technician_id: uuid.UUID
    bay_id: uuid.UUID | None
    loaner_id: uuid.UUID | None
    driver_id: uuid.UUID | None

    def holds(self, cap: Capacity) -> list[tuple[uuid.UUID, int]]:
        """(resource, cell) pairs this assignment occupies; the buffer follows the work."""
        work = cells(self.starts_at, self.ends_at + cap.buffer)
        held = [(self.technician_id, cell) for cell in work]
        for resource in (self.bay_id, self.loaner_id):
            if resource is not None:
                held += [(resource, cell) for cell in work]
        if self.driver_id is not None:
            held += [(self.driver_id, cell) for cell in cells(self.starts_at - cap.pickup,
                                                                self.starts_at)]
        return held


def _free(busy: Busy, resource: uuid.UUID, span: range) -> bool:
    taken = busy.get(resource)
    return not taken or taken.isdisjoint(span)


def _first_free(busy: Busy, pool: list[uuid.UUID], span: range,
                start_at: int = 0) -> uuid.UUID | None:
    """The first free resource, starting the round at `start_at` so that concurrent
    bookings for different technicians tend to reach for different bays."""
    if pool:
        start_at %= len(pool)
        pool = pool[start_at:] + pool[:start_at]
    return next((resource for resource in pool if _free(busy, resource, span)), None)


def _on_shift(tech: Tech, local_start: datetime, local_end: datetime) -> bool:
    shift = tech.shifts.get(local_start.weekday())
    return (shift is not None and local_start.date() == local_end.date()
            and shift[0] <= local_start.time() and local_end.time() <= shift[1])


def assign(cap: Capacity, busy: Busy, need: Need, start: datetime,
           technicians: list[Tech] | None = None, spread: int = 0) -> tuple[Assignment | None,
                                                                            str]:
    """Resources for `need` starting at `start`, or None and the reason in words. `spread`
    shifts where the round of bays starts (a retry after a collision tries elsewhere)."""
    end = start + timedelta(minutes=need.minutes)
    work = cells(start, end + cap.buffer)
    skilled = [t for t in technicians or cap.technicians if need.skills <= t.skills]
    if not skilled:
        return None, f"no technician has the skills {', '.join(sorted(need.skills))}"
    local_start, local_end = cap.local(start), cap.local(end)
    on_shift = [t for t in skilled if _on_shift(t, local_start, local_end)]
    tech = next((t for t in on_shift if _free(busy, t.id, work)), None)
    if tech is None:
        return None, "no technician with the skills is free at that time"
    bay = None
    if not need.mobile:
        bay, offset = None, cap.home_bay(tech.id) + spread * BAY_STRIDE
        if need.quick:
            bay = _first_free(busy, cap.resources["quick_bay"], work, offset)
        bay = bay or _first_free(busy, cap.resources["bay"], work, offset)
        if bay is None:
            return None, "no bay is free at that time"
    loaner = None
    if need.loaner:
        loaner = _first_free(busy, cap.resources["loaner"], work)
        if loaner is None:
            return None, "no loaner car is free at that time"
    driver = None
    if need.pickup:
        driver = _first_free(busy, cap.resources["driver"], cells(start - cap.pickup, start))
        if driver is None:
            return None, "no pick-up driver is free before that time"
    return Assignment(start, end, tech.id, bay, loaner, driver), ""


def candidate_starts(cap: Capacity, need: Need, window_start: datetime,
                     window_end: datetime) -> Iterator[datetime]:
    """Grid start times inside opening hours, in order, skipping holidays and DST gaps."""
    day = cap.local(window_start).date()
    last = cap.local(window_end).date()
    step = int(cap.slot.total_seconds() // 60)
    while day <= last:
        span = cap.hours.get(day.weekday())
        if span is not None and day not in cap.holidays:
            minute = span[0].hour * 60 + span[0].minute
            closes = span[1].hour * 60 + span[1].minute
            while minute + need.minutes <= closes:
                instant = cap.at(day, time(minute // 60, minute % 60))
                if (instant is not None and window_start <= instant <= window_end
                        and cap.opening_problem(instant, need.minutes) is None):
                    yield instant
                minute += step
        day += timedelta(days=1)


def search(cap: Capacity, busy: Busy, need: Need, window_start: datetime,
           window_end: datetime, limit: int) -> list[Assignment]:
    found: list[Assignment] = []
    # Spread work: technicians with the fewest held cells in the window come first.
    load = {t.id: len(busy.get(t.id, ())) for t in cap.technicians}
    technicians = sorted(cap.technicians, key=lambda t: load[t.id])
    for start in candidate_starts(cap, need, window_start, window_end):
        assignment, _ = assign(cap, busy, need, start, technicians)
        if assignment is not None:
            found.append(assignment)
            if len(found) >= limit:
                break
    return found


# One row per resource with its cells as epoch seconds: a busy dealer has thousands of held
# cells a day, and decoding them as rows of timestamps dominated a search.
CELLS_SQL = {"postgres": "array_agg(extract(epoch from slot_start)::bigint)",
             "sqlite": "group_concat(cast(strftime('%s', slot_start) as integer))"}
BUSY_SQL = ("select resource_id, {cells} as cells from appointment_hold where tenant_id = {{}} "
            "and slot_start >= {{}} and slot_start < {{}} group by resource_id")


def dialect() -> str:
    return "postgres" if db.is_postgres() else "sqlite"


def db_time(moment: datetime) -> datetime | str:
    """A timestamp parameter for raw SQL: Piccolo stores SQLite timestamps as text
    ("2026-11-27 05:30:00+00:00")."""
    return moment if db.is_postgres() else moment.astimezone(UTC).isoformat(sep=" ")


def busy_cells(rows: list[tuple[object, object]]) -> Busy:
    """(resource, cells) pairs as PostgreSQL (a list) or SQLite (comma-joined) returns them."""
    return {resource if isinstance(resource, uuid.UUID) else uuid.UUID(str(resource)):
            set(map(int, cells.split(","))) if isinstance(cells, str) else set(cells)  # type: ignore[call-overload]
            for resource, cells in rows}


def busy_from(start: datetime) -> datetime:
    """A cell starting up to one cell before `start` still covers it."""
    return start - timedelta(seconds=HOLD_CELL)


async def load_busy(start: datetime, end: datetime) -> Busy:
    """Held cells between two instants, for the dealer of the current scope."""
    rows = await db.fetch(BUSY_SQL.format(cells=CELLS_SQL[dialect()]), require_tenant(),
                          db_time(busy_from(start)), db_time(end))
    return busy_cells([(row["resource_id"], row["cells"]) for row in rows])


def busy_span(cap: Capacity, need: Need, start: datetime, end: datetime) -> tuple[datetime,
                                                                                   datetime]:
    """The instants whose holds can touch starts between `start` and `end`."""
    return (start - cap.pickup,
            end + timedelta(minutes=need.minutes) + cap.buffer + timedelta(seconds=HOLD_CELL))


def aware(moment: datetime, cap: Capacity) -> datetime:
    """A naive time is the dealer's wall time (what a form sends); store UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=cap.zone).astimezone(UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class CustomerContext:
    vehicle: ports.VehicleFacts
    pickup_point: tuple[float, float] | None  # stored with the customer
    declined_work: list[dict[str, object]]
    previous_advisor: uuid.UUID | None
    advisors: list[ports.Advisor]


async def customer_context(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> CustomerContext:
    """What the customer base knows that a booking needs (one read). Called inside the
    caller's tenant scope, the customer base's own scope joins that one transaction."""
    return _customer(await ports.booking_context(tenant_id, vehicle_id))


def customer_context_of(row: Mapping[str, Any], vehicle_id: uuid.UUID) -> CustomerContext:
    """The same from a row of `ports.booking_context_sql`, read by the caller's statement."""
    return _customer(ports.booking_context_of(row, vehicle_id))


def _customer(found: ports.BookingContext | None) -> CustomerContext:
    if found is None:
        raise NotFoundError("vehicle_id", "no such vehicle at this dealer")
    return CustomerContext(found.vehicle, found.pickup_point, found.declined_work,
                           found.last_advisor, found.advisors)


@dataclass(frozen=True)
class Pickup:
    free: bool
    distance_km: float | None


def pickup_point(latitude: float | None, longitude: float | None,
                 context: CustomerContext) -> tuple[float, float] | None:
    """Where the car is picked up: the point the request names (kept with the intake), else
    the point stored with the customer."""
    if latitude is None or longitude is None:
        return context.pickup_point
    return latitude, longitude


def pickup_terms(cap: Capacity, rework: bool, point: tuple[float, float] | None) -> Pickup:
    """Free within the dealer's radius (10 km by default) for booked customers; always
    free for rework."""
    distance = None
    if point is not None and cap.latitude is not None and cap.longitude is not None:
        distance = round(haversine_km(cap.latitude, cap.longitude, point[0], point[1]), 3)
    return Pickup(rework or (distance is not None and distance <= cap.free_pickup_km), distance)


def least_booked(context: CustomerContext, booked: list[uuid.UUID]) -> uuid.UUID | None:
    """The customer's previous advisor ("dedicated reception"), else the active advisor
    with the fewest of `booked` (the advisors of the day's appointments)."""
    active = {advisor.id for advisor in context.advisors}
    if context.previous_advisor is not None and (not active or context.previous_advisor in active):
        return context.previous_advisor
    if not active:
        return None
    load = {advisor: 0 for advisor in active}
    for advisor in booked:
        if advisor in load:
            load[advisor] += 1
    return min(sorted(load, key=str), key=lambda advisor: load[advisor])


async def choose_advisor(context: CustomerContext, day_start: datetime,
                         day_end: datetime) -> uuid.UUID | None:
    """`least_booked`, reading the day's appointments only when the load decides."""
    active = {advisor.id for advisor in context.advisors}
    booked: list[uuid.UUID] = []
    if active and context.previous_advisor not in active:
        rows = await Appointment.select_in_tenant(Appointment.advisor_staff_id).where(
            (Appointment.starts_at >= day_start) & (Appointment.starts_at < day_end)
            & (Appointment.status != "cancelled"))
        booked = [row["advisor_staff_id"] for row in rows]
    return least_booked(context, booked)


@dataclass(frozen=True)
class Availability:
    need: Need
    rework: bool
    pickup: Pickup
    window_start: datetime
    window_end: datetime
    slots: list[Assignment]
    advisor_staff_id: uuid.UUID | None
    context: CustomerContext

    @property
    def proposed(self) -> Assignment | None:
        return self.slots[0] if self.slots else None


def earliest_start(cap: Capacity, need: Need, now: datetime) -> datetime:
    """A pick-up must still be possible: the driver leaves before the appointment."""
    return now + cap.pickup if need.pickup else now


def search_window(cap: Capacity, need: Need, preferred: datetime, rework: bool,
                  now: datetime) -> tuple[datetime, datetime]:
    """From the preferred time (never the past) to one day after it; rework customers
    also get every slot left today."""
    earliest = earliest_start(cap, need, now)
    start = max(preferred, earliest)
    end = max(preferred, now) + PREFERRED_WINDOW
    if rework:
        start = earliest
        end = max(end, cap.day_bounds(now)[1])
    return start, end


async def find_slots(tenant_id: uuid.UUID, query: AvailabilityQuery,
                     now: datetime | None = None) -> Availability:
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id, write=False):
        context = await customer_context(tenant_id, query.vehicle_id)
        cap = await load_capacity(tenant_id)
        need = need_for(cap, query.job_codes, query.problem, mobile=query.mobile,
                        loaner=query.loaner, pickup=query.pickup)
        start, end = search_window(cap, need, aware(query.preferred_at, cap), query.rework,
                                   now)
        busy = await load_busy(*busy_span(cap, need, start, end))
        slots = search(cap, busy, need, start, end, query.limit)
        advisor = await choose_advisor(
            context, *cap.day_bounds(slots[0].starts_at if slots else start))
    point = pickup_point(query.pickup_latitude, query.pickup_longitude, context)
    return Availability(need, query.rework, pickup_terms(cap, query.rework, point), start, end,
                        slots, advisor, context)
