"""A dealer's capacity model: opening hours, holidays, technicians with skills and shifts,
bays, loaner cars, drivers and the service catalogue, loaded as one immutable snapshot.

Wall-clock values are in the dealer's time zone; `Capacity.local()` and `Capacity.at()`
are the only places where local and UTC meet.
"""

from __future__ import annotations

import asyncio
import time as time_module
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dealerhub.platform.appointments.schemas import (
    HolidayCreate,
    JobCreate,
    ResourceCreate,
    SettingsUpdate,
    TechnicianCreate,
)
from dealerhub.platform.appointments.tables import (
    DEFAULT_HOURS,
    WEEKDAYS,
    CapacitySettings,
    Holiday,
    Resource,
    ServiceJob,
    Technician,
)
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope

QUICK_SERVICE_MAX_MINUTES = 30
# Holds sit on a fixed 15-minute grid counted from the epoch, whatever the dealer's slot
# step: cells of every booking line up, so the unique key sees every overlap.
HOLD_CELL = 15 * 60


class CapacityError(ValueError):
    """Bad input; `field` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_hours(raw: dict[str, Any] | None) -> dict[int, tuple[time, time]]:
    hours: dict[int, tuple[time, time]] = {}
    for day, span in (raw or {}).items():
        if span:
            opens, closes = time.fromisoformat(span[0]), time.fromisoformat(span[1])
            if closes > opens:
                hours[int(day)] = (opens, closes)
    return hours


@dataclass(frozen=True)
class Job:
    code: str
    name_zh: str
    name_en: str
    minutes: int
    labour_fen: int
    parts_fen: int
    skill: str
    quick: bool
    mobile: bool
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Tech:
    id: uuid.UUID
    name: str
    skills: frozenset[str]
    shifts: dict[int, tuple[time, time]]


@dataclass(frozen=True)
class Capacity:
    tenant_id: uuid.UUID
    name: str
    zone: ZoneInfo
    latitude: float | None
    longitude: float | None
    hours: dict[int, tuple[time, time]]
    slot: timedelta
    buffer: timedelta
    pickup: timedelta
    free_pickup_km: float
    holidays: dict[date, str]
    technicians: list[Tech]
    resources: dict[str, list[uuid.UUID]]
    jobs: dict[str, Job]
    resource_names: dict[uuid.UUID, str] = field(default_factory=dict)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def home_bay(self, technician_id: uuid.UUID) -> int:
        """Where a technician's round of bays starts: their place in the (name-ordered)
        list, so with no more technicians than bays, concurrent bookings for different
        technicians reach for different bays and do not collide on a hold."""
        return next((number for number, tech in enumerate(self.technicians)
                     if tech.id == technician_id), 0)

    def at(self, day: date, wall: time) -> datetime | None:
        """The UTC instant of a local wall time, or None inside a daylight-saving gap."""
        local = datetime.combine(day, wall, tzinfo=self.zone)
        instant = local.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            return None
        return instant

    def day_bounds(self, moment: datetime) -> tuple[datetime, datetime]:
        """The UTC instants where the dealer's local day containing `moment` starts and ends."""
        day = self.local(moment).date()
        return tuple(datetime.combine(d, time(0), tzinfo=self.zone).astimezone(UTC)  # type: ignore[return-value]
                     for d in (day, day + timedelta(days=1)))

    def opening_problem(self, starts_at: datetime, minutes: int) -> CapacityError | None:
        """Why a start time cannot be booked by the calendar alone (holiday, closed hours)."""
        local = self.local(starts_at)
        if local.date() in self.holidays:
            name = self.holidays[local.date()]
            return CapacityError("starts_at", f"the dealer is closed on {local.date()} "
                                 f"(holiday{': ' + name if name else ''})")
        span = self.hours.get(local.weekday())
        end_local = self.local(starts_at + timedelta(minutes=minutes))
        if (span is None or local.time() < span[0] or end_local.date() != local.date()
                or end_local.time() > span[1]):
            shown = f"{span[0]:%H:%M}–{span[1]:%H:%M}" if span else "closed"
            return CapacityError("starts_at", f"outside opening hours on {local.date()} "
                                 f"({shown}, {self.zone.key})")
        return None


def _tech(row: dict[str, Any]) -> Tech:
    return Tech(row["id"], row["name"], frozenset(row["skills"] or []),
                parse_hours(row["shifts"]))


def _job(row: dict[str, Any]) -> Job:
    return Job(row["code"], row["name_zh"], row["name_en"], row["duration_minutes"],
               row["labour_price_fen"], row["parts_price_fen"], row["skill"], row["quick"],
               row["mobile"], tuple(k.lower() for k in row["keywords"] or []))


# Capacity changes rarely and every search and booking needs it: keep each dealer's snapshot
# for a few seconds. Writes in this process drop it at once; another process sees a change
# within CACHE_SECONDS. Double booking stays impossible either way (holds are unique).
# Concurrent misses share one read (a burst of bookings would otherwise all read at once).
CACHE_SECONDS = 10.0
_cache: dict[uuid.UUID, tuple[float, Capacity]] = {}
_reading: dict[uuid.UUID, asyncio.Future[Capacity]] = {}


def forget_capacity(tenant_id: uuid.UUID) -> None:
    _cache.pop(tenant_id, None)
    _reading.pop(tenant_id, None)


async def load_capacity(tenant_id: uuid.UUID) -> Capacity:
    """The snapshot (cached briefly); call inside the caller's tenant scope."""
    cached = _cache.get(tenant_id)
    if cached is not None and cached[0] > time_module.monotonic():
        return cached[1]
    pending = _reading.get(tenant_id)
    if pending is not None and pending.get_loop() is asyncio.get_running_loop():
        return await asyncio.shield(pending)
    pending = _reading[tenant_id] = asyncio.get_running_loop().create_future()
    try:
        snapshot = await _read_capacity(tenant_id)
    except BaseException as error:
        if _reading.get(tenant_id) is pending:
            del _reading[tenant_id]
        if isinstance(error, Exception):
            pending.set_exception(error)
            pending.exception()  # retrieved: the waiters get it, no "never retrieved" warning
        else:
            pending.cancel()
        raise
    if _reading.get(tenant_id) is pending:  # not forgotten by a write meanwhile
        del _reading[tenant_id]
        _cache[tenant_id] = (time_module.monotonic() + CACHE_SECONDS, snapshot)
    pending.set_result(snapshot)
    return snapshot


async def _read_capacity(tenant_id: uuid.UUID) -> Capacity:
    dealer = await Dealer.select(Dealer.name, Dealer.time_zone, Dealer.latitude,
                                 Dealer.longitude).where(
        Dealer.id == tenant_id).first()
    if dealer is None:
        raise LookupError(f"no dealer {tenant_id}")
    settings = await CapacitySettings.select_in_tenant().output(load_json=True).first() or {}
    holidays = await Holiday.select_in_tenant(Holiday.day, Holiday.name)
    techs = await Technician.select_in_tenant(
        Technician.id, Technician.name, Technician.skills, Technician.shifts,
    ).where(Technician.active.eq(True)).order_by(Technician.name).output(load_json=True)
    resources = await Resource.select_in_tenant(Resource.id, Resource.kind, Resource.name).where(
        Resource.active.eq(True)).order_by(Resource.name)
    jobs = await ServiceJob.select_in_tenant().where(ServiceJob.active.eq(True)).output(
        load_json=True)
    by_kind: dict[str, list[uuid.UUID]] = {"bay": [], "quick_bay": [], "loaner": [], "driver": []}
    for row in resources:
        by_kind.setdefault(row["kind"], []).append(row["id"])
    return Capacity(
        tenant_id=tenant_id, name=dealer["name"], zone=ZoneInfo(dealer["time_zone"]),
        latitude=dealer["latitude"], longitude=dealer["longitude"],
        hours=parse_hours(settings.get("opening_hours", DEFAULT_HOURS)),
        slot=timedelta(minutes=settings.get("slot_minutes", 15)),
        buffer=timedelta(minutes=settings.get("buffer_minutes", 15)),
        pickup=timedelta(minutes=settings.get("pickup_minutes", 60)),
        free_pickup_km=settings.get("free_pickup_km", 10.0),
        holidays={row["day"]: row["name"] for row in holidays},
        technicians=[_tech(row) for row in techs],
        resources=by_kind,
        jobs={row["code"]: _job(row) for row in jobs},
        resource_names={row["id"]: row["name"] for row in resources}
        | {row["id"]: row["name"] for row in techs},
    )


async def capacity(tenant_id: uuid.UUID) -> Capacity:
    async with tenant_scope(tenant_id, write=False):
        return await load_capacity(tenant_id)


def _check_hours(field_name: str,
                 hours: dict[str, list[str] | None]) -> dict[str, list[str] | None]:
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise CapacityError(field_name, f"weekdays are 0 (Monday) to 6, not {sorted(unknown)}")
    for day, span in hours.items():
        if span is not None and (len(span) != 2 or span[0] >= span[1]):
            raise CapacityError(field_name, f"day {day}: give [opens, closes] with opens first")
    return {day: hours.get(day) for day in WEEKDAYS}


async def update_settings(tenant_id: uuid.UUID, data: SettingsUpdate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if data.opening_hours is not None:
        values["opening_hours"] = _check_hours("opening_hours", data.opening_hours)
    for name in ("slot_minutes", "buffer_minutes", "pickup_minutes", "free_pickup_km"):
        if getattr(data, name) is not None:
            values[name] = getattr(data, name)
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        existing = await CapacitySettings.objects_in_tenant().first()
        if existing is None:
            existing = CapacitySettings()
            await CapacitySettings.insert_in_tenant(existing)
        if values:
            columns = {getattr(CapacitySettings, k): v for k, v in values.items()}
            columns[CapacitySettings.updated_at] = datetime.now(UTC)
            await CapacitySettings.update_in_tenant(columns).where(
                CapacitySettings.id == existing.id)
        return await CapacitySettings.select_in_tenant().output(load_json=True).first()


async def add_holiday(tenant_id: uuid.UUID, data: HolidayCreate) -> Holiday:
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        if await Holiday.count_in_tenant().where(Holiday.day == data.day):
            raise CapacityError("day", f"{data.day} is already a holiday")
        (row,) = await Holiday.insert_in_tenant(Holiday(day=data.day, name=data.name))
        return row


async def remove_holiday(tenant_id: uuid.UUID, holiday_id: uuid.UUID) -> bool:
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        row = await Holiday.get_in_tenant(holiday_id)
        if row is None:
            return False
        await Holiday.delete_in_tenant().where(Holiday.id == row.id)
        return True


async def add_resource(tenant_id: uuid.UUID, data: ResourceCreate) -> Resource:
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        (row,) = await Resource.insert_in_tenant(Resource(kind=data.kind, name=data.name))
        return row


async def add_technician(tenant_id: uuid.UUID, data: TechnicianCreate) -> Technician:
    shifts = _check_hours("shifts", data.shifts)
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        (row,) = await Technician.insert_in_tenant(Technician(
            name=data.name, skills=sorted({s.strip().lower() for s in data.skills}),
            shifts=shifts, staff_id=data.staff_id))
        return row


async def add_job(tenant_id: uuid.UUID, data: JobCreate) -> ServiceJob:
    code = data.code.strip().upper()
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        if await ServiceJob.count_in_tenant().where(ServiceJob.code == code):
            raise CapacityError("code", f"job code {code} already exists")
        (row,) = await ServiceJob.insert_in_tenant(ServiceJob(
            code=code, name_zh=data.name_zh, name_en=data.name_en,
            duration_minutes=data.duration_minutes, labour_price_fen=data.labour_price_fen,
            parts_price_fen=data.parts_price_fen, skill=data.skill.strip().lower(),
            quick=data.duration_minutes <= QUICK_SERVICE_MAX_MINUTES, mobile=data.mobile,
            keywords=[k.strip().lower() for k in data.keywords]))
        return row


async def set_active(tenant_id: uuid.UUID, kind: str, object_id: uuid.UUID,
                     active: bool) -> bool:
    """Retire (or bring back) a technician, a resource or a catalogue job; history keeps it."""
    table = {"technician": Technician, "resource": Resource, "job": ServiceJob}[kind]
    async with tenant_scope(tenant_id):
        forget_capacity(tenant_id)
        row = await table.get_in_tenant(object_id)
        if row is None:
            return False
        await table.update_in_tenant({table.active: active}).where(table.id == row.id)
        return True


@dataclass(frozen=True)
class CapacityOverview:
    settings: dict[str, Any]
    holidays: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    technicians: list[dict[str, Any]]
    jobs: list[dict[str, Any]]


async def overview(tenant_id: uuid.UUID) -> CapacityOverview:
    """Everything the capacity settings page shows, retired entries included."""
    async with tenant_scope(tenant_id, write=False):
        settings = await CapacitySettings.select_in_tenant().output(load_json=True).first()
        return CapacityOverview(
            settings=settings or {"opening_hours": DEFAULT_HOURS, "slot_minutes": 15,
                                  "buffer_minutes": 15, "pickup_minutes": 60,
                                  "free_pickup_km": 10.0},
            holidays=await Holiday.select_in_tenant().order_by(Holiday.day),
            resources=await Resource.select_in_tenant().order_by(Resource.kind, Resource.name),
            technicians=await Technician.select_in_tenant().order_by(Technician.name).output(
                load_json=True),
            jobs=await ServiceJob.select_in_tenant().order_by(ServiceJob.code).output(
                load_json=True),
        )
