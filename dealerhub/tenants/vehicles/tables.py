"""Vehicles, their odometer readings, and the OEM's model catalogue with service intervals."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Date,
    Float,
    Integer,
    SmallInt,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class VehicleModel(PlatformTable, tablename="vehicle_model"):
    """OEM-wide: each model's maintenance and warranty intervals."""

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    maintenance_km = Integer(default=10000)
    maintenance_months = SmallInt(default=12)
    warranty_years = SmallInt(default=3)
    warranty_km = Integer(default=100000)


class Vehicle(TenantTable, tablename="vehicle"):
    external_id = Varchar(length=64, null=True, default=None)
    customer_id = UUID()
    vin = Varchar(length=17)
    plate = Varchar(length=16, null=True, default=None)
    model_code = Varchar(length=32, null=True, default=None)
    model_year = SmallInt(null=True, default=None)
    purchase_date = Date(null=True, default=None)
    warranty_end = Date(null=True, default=None)
    warranty_end_km = Integer(null=True, default=None)
    insurance_expiry = Date(null=True, default=None)
    open_recalls = JSONB(default=[])
    # derived facts, refreshed on every write and import (see vehicles/facts.py)
    last_odometer_km = Integer(null=True, default=None)
    last_odometer_on = Date(null=True, default=None)
    daily_km = Float(null=True, default=None)
    long_trip = Boolean(default=False)
    next_maintenance_date = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class OdometerReading(TenantTable, tablename="odometer_reading"):
    vehicle_id = UUID()
    read_on = Date()
    km = Integer()
    source = Varchar(length=16, default="manual")
    repair_order_id = UUID(null=True, default=None)
