"""Derived vehicle facts (DOMAIN.md "Reminders and retention", "Customers"), recomputed
set-based for a batch of vehicles on every write and import.

- readings: a reading lower than an earlier one is refused on entry; in stored history such
  a reading is ignored (only readings at or above every earlier reading count)
- daily km: km driven per day over the last year of valid readings (from the purchase date
  at 0 km when there is only one reading)
- long trip: the latest interval's daily km is at least twice the rate before it, and at
  least 80 km a day
- next maintenance: whichever comes first of the model's km interval (projected with the
  daily km) and its time interval, counted from the last maintenance visit (or the sale)
- warranty: end date and km default from the model (years, km) when the DMS gives none
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from dealerhub.platform.db import chunks
from dealerhub.tenants.bulk import bulk_update, one_of
from dealerhub.tenants.months import add_months
from dealerhub.tenants.repair_orders.tables import RepairOrder
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle, VehicleModel

DAILY_KM_WINDOW_DAYS = 365
_DAILY_KM_WINDOW = timedelta(days=DAILY_KM_WINDOW_DAYS)
LONG_TRIP_FACTOR = 2.0
LONG_TRIP_MIN_DAILY_KM = 80.0
DEFAULT_INTERVAL = (10_000, 12)  # km, months, for a model the OEM has not configured
INSURANCE_RENEWAL_WINDOW_DAYS = 60
FACT_TYPES = {"id": "uuid", "last_odometer_km": "int", "last_odometer_on": "date",
              "daily_km": "float8", "long_trip": "boolean", "next_maintenance_date": "date",
              "warranty_end": "date", "warranty_end_km": "int"}


class Reading(NamedTuple):
    """A tuple (imports make one per vehicle): sorts by date, then km."""

    on: date
    km: int


def valid_readings(readings: Sequence[Reading]) -> list[Reading]:
    """Readings in date order, dropping any lower than an earlier one."""
    valid: list[Reading] = []
    for reading in sorted(readings):
        if valid and reading.km < valid[-1].km:
            continue
        if valid and reading.on == valid[-1].on:
            valid[-1] = reading
        else:
            valid.append(reading)
    return valid


def _rate(first: Reading, last: Reading) -> float | None:
    days = (last.on - first.on).days
    return (last.km - first.km) / days if days > 0 else None


def daily_km(valid: Sequence[Reading], purchase_date: date | None) -> float | None:
    if not valid:
        return None
    last = valid[-1]
    since = last.on - _DAILY_KM_WINDOW
    window = [r for r in valid if r.on >= since]
    start = window[0] if len(window) > 1 else (valid[-2] if len(valid) > 1 else None)
    if start is None and purchase_date is not None:
        start = Reading(purchase_date, 0)
    rate = _rate(start, last) if start else None
    return round(rate, 1) if rate is not None else None


def long_trip(valid: Sequence[Reading]) -> bool:
    if len(valid) < 3:
        return False
    latest = _rate(valid[-2], valid[-1])
    before = _rate(valid[0], valid[-2])
    if latest is None or before is None:
        return False
    return latest >= LONG_TRIP_MIN_DAILY_KM and latest >= LONG_TRIP_FACTOR * max(before, 1.0)


def next_maintenance(*, interval_km: int, interval_months: int, last_service_on: date | None,
                     last_service_km: int, last_reading: Reading | None,
                     rate: float | None) -> date | None:
    if last_service_on is None:
        return None
    due = add_months(last_service_on, interval_months)
    if rate and rate > 0 and last_reading is not None:
        remaining = last_service_km + interval_km - last_reading.km
        due = min(due, last_reading.on + timedelta(days=math.ceil(remaining / rate)))
    return due


def vehicle_facts(*, purchase_date: date | None, warranty_end: date | None,
                  warranty_end_km: int | None, model: dict[str, Any] | None,
                  readings: Sequence[Reading], last_service: tuple[date, int] | None,
                  ) -> dict[str, Any]:
    """Every derived column of one vehicle from its own data, readings and last maintenance."""
    interval = (model["maintenance_km"], model["maintenance_months"]) if model \
        else DEFAULT_INTERVAL
    valid = valid_readings(readings)
    rate = daily_km(valid, purchase_date)
    service_on, service_km = last_service or (purchase_date, 0)
    if warranty_end is None and model and purchase_date:
        warranty_end = add_months(purchase_date, 12 * model["warranty_years"])
    return {
        "last_odometer_km": valid[-1].km if valid else None,
        "last_odometer_on": valid[-1].on if valid else None,
        "daily_km": rate, "long_trip": long_trip(valid),
        "next_maintenance_date": next_maintenance(
            interval_km=interval[0], interval_months=interval[1], last_service_on=service_on,
            last_service_km=service_km, last_reading=valid[-1] if valid else None, rate=rate),
        "warranty_end": warranty_end,
        "warranty_end_km": warranty_end_km or (model["warranty_km"] if model else None),
    }


async def vehicle_models() -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in await VehicleModel.select()}


async def readings_of(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Reading]]:
    readings: dict[uuid.UUID, list[Reading]] = {}
    if ids:
        for row in await OdometerReading.select_in_tenant(
            OdometerReading.vehicle_id, OdometerReading.read_on, OdometerReading.km,
        ).where(one_of(OdometerReading.vehicle_id, ids)):
            readings.setdefault(row["vehicle_id"], []).append(Reading(row["read_on"], row["km"]))
    return readings


async def last_services(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[date, int]]:
    """Date and km of each vehicle's latest closed maintenance visit."""
    services: dict[uuid.UUID, tuple[date, int]] = {}
    if ids:
        for row in await RepairOrder.select_in_tenant(
            RepairOrder.vehicle_id, RepairOrder.closed_at, RepairOrder.mileage_km,
        ).where(one_of(RepairOrder.vehicle_id, ids), RepairOrder.status == "closed",
                RepairOrder.ro_type == "maintenance").order_by(RepairOrder.closed_at):
            services[row["vehicle_id"]] = (row["closed_at"].date(), row["mileage_km"] or 0)
    return services


async def refresh_vehicle_facts(vehicle_ids: Sequence[uuid.UUID]) -> None:
    """Recompute the derived facts of these vehicles (inside their tenant's scope)."""
    models = await vehicle_models()
    for part in chunks(list(dict.fromkeys(vehicle_ids)), 1000):
        ids = list(part)
        readings, services = await readings_of(ids), await last_services(ids)
        updates = [{"id": vehicle["id"], **vehicle_facts(
            purchase_date=vehicle["purchase_date"], warranty_end=vehicle["warranty_end"],
            warranty_end_km=vehicle["warranty_end_km"],
            model=models.get(vehicle["model_code"] or ""),
            readings=readings.get(vehicle["id"], []), last_service=services.get(vehicle["id"]),
        )} for vehicle in await Vehicle.select_in_tenant(
            Vehicle.id, Vehicle.model_code, Vehicle.purchase_date, Vehicle.warranty_end,
            Vehicle.warranty_end_km,
        ).where(one_of(Vehicle.id, ids))]
        await bulk_update("vehicle", updates, FACT_TYPES)
