"""Vehicle request/response types, odometer readings and the OEM model catalogue."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from dealerhub.platform.web.api import StrictStruct


class VehicleRead(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    external_id: str | None
    vin: str
    plate: str | None
    model_code: str | None
    model_year: int | None
    purchase_date: date | None
    warranty_end: date | None
    warranty_end_km: int | None
    insurance_expiry: date | None
    open_recalls: list[str]
    last_odometer_km: int | None
    last_odometer_on: date | None
    daily_km: float | None
    long_trip: bool
    next_maintenance_date: date | None
    in_warranty: bool
    insurance_renewal_due: bool


class VehicleCreate(StrictStruct):
    customer_id: uuid.UUID
    vin: str
    external_id: str | None = None
    plate: str | None = None
    model_code: str | None = None
    model_year: int | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    warranty_end_km: int | None = None
    insurance_expiry: date | None = None
    open_recalls: list[str] = msgspec.field(default_factory=list)


class VehicleUpdate(StrictStruct):
    plate: str | msgspec.UnsetType | None = msgspec.UNSET
    model_code: str | msgspec.UnsetType | None = msgspec.UNSET
    model_year: int | msgspec.UnsetType | None = msgspec.UNSET
    purchase_date: date | msgspec.UnsetType | None = msgspec.UNSET
    warranty_end: date | msgspec.UnsetType | None = msgspec.UNSET
    warranty_end_km: int | msgspec.UnsetType | None = msgspec.UNSET
    insurance_expiry: date | msgspec.UnsetType | None = msgspec.UNSET
    open_recalls: list[str] | msgspec.UnsetType = msgspec.UNSET


class OdometerEntry(StrictStruct):
    km: int
    read_on: date | None = None


class OdometerRead(msgspec.Struct):
    read_on: date
    km: int
    source: str


class VehicleModelWrite(StrictStruct):
    code: str
    name: str
    maintenance_km: int = 10000
    maintenance_months: int = 12
    warranty_years: int = 3
    warranty_km: int = 100000


class VehicleModelRead(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    maintenance_km: int
    maintenance_months: int
    warranty_years: int
    warranty_km: int
