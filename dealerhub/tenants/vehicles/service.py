"""Vehicles, odometer readings and the OEM's model catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

from dealerhub.platform import events
from dealerhub.platform.tenancy import tenant_scope, transaction
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.customers.facts import refresh_customer_facts
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.fields import Cleaner, FieldError, InvalidInput
from dealerhub.tenants.vehicles.facts import (
    INSURANCE_RENEWAL_WINDOW_DAYS,
    refresh_vehicle_facts,
)
from dealerhub.tenants.vehicles.schemas import (
    OdometerRead,
    VehicleCreate,
    VehicleModelWrite,
    VehicleRead,
    VehicleUpdate,
)
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle, VehicleModel
from dealerhub.tenants.vehicles.tasks import refresh_model_vehicles

VEHICLE_FIELDS = ("vin", "plate", "model_code", "model_year", "purchase_date", "warranty_end",
                  "warranty_end_km", "insurance_expiry", "open_recalls", "external_id")


def vehicle_read(row: Mapping[str, Any], today: date | None = None) -> VehicleRead:
    today = today or date.today()
    warranty_end, insurance = row["warranty_end"], row["insurance_expiry"]
    limit_km = row["warranty_end_km"]
    within_km = limit_km is None or (row["last_odometer_km"] or 0) <= limit_km
    return VehicleRead(
        id=row["id"], customer_id=row["customer_id"], external_id=row["external_id"],
        vin=row["vin"], plate=row["plate"], model_code=row["model_code"],
        model_year=row["model_year"], purchase_date=row["purchase_date"],
        warranty_end=warranty_end, warranty_end_km=row["warranty_end_km"],
        insurance_expiry=insurance, open_recalls=list(loaded(row["open_recalls"], [])),
        last_odometer_km=row["last_odometer_km"], last_odometer_on=row["last_odometer_on"],
        daily_km=row["daily_km"], long_trip=bool(row["long_trip"]),
        next_maintenance_date=row["next_maintenance_date"],
        in_warranty=bool(warranty_end and warranty_end >= today and within_km),
        insurance_renewal_due=bool(insurance and today <= insurance
                                   <= today + timedelta(days=INSURANCE_RENEWAL_WINDOW_DAYS)),
    )


def clean_vehicle(raw: Mapping[str, Any], *, partial: bool = False,
                  today: date | None = None) -> dict[str, Any]:
    """Validated column values from raw input; `partial` keeps only the fields given."""
    clean = Cleaner(raw, today)
    values: dict[str, Any] = {
        "vin": clean.vin("vin") if not partial or clean.present("vin") else None,
        "plate": clean.plate("plate"),
        "model_code": clean.text("model_code", max_length=32),
        "model_year": clean.integer("model_year", minimum=1980, maximum=clean.today.year + 1),
        "purchase_date": clean.date("purchase_date", not_future=True),
        "warranty_end": clean.date("warranty_end"),
        "warranty_end_km": clean.integer("warranty_end_km", maximum=2_000_000),
        "insurance_expiry": clean.date("insurance_expiry"),
        "open_recalls": clean.text_list("open_recalls"),
        "external_id": clean.text("external_id", max_length=64),
    }
    clean.done()
    if partial:
        return {k: v for k, v in values.items() if clean.present(k)}
    return values


async def _vehicle_rows(*conditions: Any) -> list[dict[str, Any]]:
    query = Vehicle.select_in_tenant()
    for condition in conditions:
        query = query.where(condition)
    return await query.order_by(Vehicle.created_at)


async def get_vehicle(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> VehicleRead | None:
    async with tenant_scope(tenant_id, write=False):
        rows = await _vehicle_rows(Vehicle.id == vehicle_id)
    return vehicle_read(rows[0]) if rows else None


async def list_vehicles_for_customer(tenant_id: uuid.UUID,
                                     customer_id: uuid.UUID) -> list[VehicleRead]:
    async with tenant_scope(tenant_id, write=False):
        rows = await _vehicle_rows(Vehicle.customer_id == customer_id)
    return [vehicle_read(row) for row in rows]


async def _check_unique(values: dict[str, Any], vehicle_id: uuid.UUID | None) -> None:
    errors = []
    for field in ("vin", "external_id"):
        if values.get(field) is None:
            continue
        query = Vehicle.count_in_tenant().where(getattr(Vehicle, field) == values[field])
        if vehicle_id is not None:
            query = query.where(Vehicle.id != vehicle_id)
        if await query:
            errors.append(FieldError(field, "is already registered to another vehicle"))
    if errors:
        raise InvalidInput(errors)


# A purchase date further back is history being registered (a DMS import of the car park),
# not a sale: no `vehicle.sold`, or every import would flood the consumers.
RECENT_SALE = timedelta(days=90)


def sold_event(vehicle_id: uuid.UUID, customer_id: uuid.UUID, purchase_date: date | None,
               today: date | None = None) -> dict[str, Any] | None:
    """`vehicle.sold` for a vehicle registered with a recent purchase date (form, API,
    import): appointments propose the first maintenance from it. Ids and the date only."""
    if purchase_date is None or purchase_date < (today or date.today()) - RECENT_SALE:
        return None
    return {"vehicle_id": vehicle_id, "customer_id": customer_id, "purchase_date": purchase_date}


def insurance_events(vehicle_id: uuid.UUID, customer_id: uuid.UUID,
                     staff_id: uuid.UUID | None, before: date | None,
                     after: date | None) -> list[tuple[str, dict[str, Any]]]:
    """Scoring's insurance renewal rate from the policy expiry the dealer records: a new
    expiry is a policy due for renewal (`insurance.renewal_due`); a later expiry replacing
    one is that policy renewed here (`insurance.renewed`, due at the old expiry). An
    earlier date is a correction and counts nothing. `due_at` is noon UTC of the expiry
    day (the same calendar day in every dealer's zone); the staff is the customer's
    insurance advisor."""
    if after is None or (before is not None and after <= before):
        return []

    def payload(expiry: date) -> dict[str, Any]:
        return {"vehicle_id": vehicle_id, "customer_id": customer_id, "staff_id": staff_id,
                "expiry": expiry, "due_at": datetime.combine(expiry, time(12), UTC)}

    found = [("insurance.renewal_due", payload(after))]
    if before is not None:
        found.append(("insurance.renewed", payload(before)))
    return found


async def emit_insurance(found: list[tuple[str, dict[str, Any]]]) -> None:
    """Insurance events, one statement per type (imports emit a batch's at once)."""
    for event_type in ("insurance.renewal_due", "insurance.renewed"):
        await events.emit_many(event_type, [p for kind, p in found if kind == event_type])


async def create_vehicle(tenant_id: uuid.UUID,
                         data: VehicleCreate | Mapping[str, Any]) -> VehicleRead:
    """A vehicle for a customer; `data` is the API body or raw form values with customer_id."""
    raw = data if isinstance(data, Mapping) else msgspec.structs.asdict(data)
    values = clean_vehicle(raw)
    async with tenant_scope(tenant_id):
        owner = await Customer.get_in_tenant(raw["customer_id"])
        if owner is None or owner.erased_at is not None:
            raise InvalidInput([FieldError("customer_id", "no such customer")])
        await _check_unique(values, None)
        (row,) = await Vehicle.insert_in_tenant(Vehicle(customer_id=owner.id, **values))
        if sold := sold_event(row.id, owner.id, row.purchase_date):
            await events.emit("vehicle.sold", sold)
        await emit_insurance(insurance_events(row.id, owner.id, owner.insurance_staff_id, None,
                                              row.insurance_expiry))
        await refresh_vehicle_facts([row.id])
        await refresh_customer_facts([owner.id])
        rows = await _vehicle_rows(Vehicle.id == row.id)
    return vehicle_read(rows[0])


async def update_vehicle(tenant_id: uuid.UUID, vehicle_id: uuid.UUID,
                         data: VehicleUpdate) -> VehicleRead | None:
    raw = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    values = clean_vehicle(raw, partial=True)
    async with tenant_scope(tenant_id):
        current = await Vehicle.get_in_tenant(vehicle_id)
        if current is None:
            return None
        if values:
            await _check_unique(values, vehicle_id)
            await Vehicle.update_in_tenant(
                {getattr(Vehicle, k): v for k, v in values.items()}).where(Vehicle.id == vehicle_id)
            if renewal := insurance_events(vehicle_id, current.customer_id, None,
                                           current.insurance_expiry,
                                           values.get("insurance_expiry")):
                owner = await Customer.get_in_tenant(current.customer_id)
                await emit_insurance([(kind, {**p, "staff_id": owner and owner.insurance_staff_id})
                                      for kind, p in renewal])
            await refresh_vehicle_facts([vehicle_id])
            await refresh_customer_facts([current.customer_id])
        rows = await _vehicle_rows(Vehicle.id == vehicle_id)
    return vehicle_read(rows[0])


async def add_odometer_reading(vehicle_id: uuid.UUID, km: int, read_on: date, *,
                               source: str, repair_order_id: uuid.UUID | None = None,
                               field: str = "km") -> None:
    """Store a reading (inside the tenant scope); one lower than an earlier reading is refused."""
    if km < 0:
        raise InvalidInput([FieldError(field, "cannot be negative")])
    earlier = await OdometerReading.select_in_tenant(OdometerReading.km).where(
        OdometerReading.vehicle_id == vehicle_id, OdometerReading.read_on <= read_on,
    ).order_by(OdometerReading.km, ascending=False).first()
    if earlier is not None and km < earlier["km"]:
        raise InvalidInput([FieldError(
            field, f"{km} km is lower than the earlier reading of {earlier['km']} km")])
    await OdometerReading.insert_in_tenant(OdometerReading(
        vehicle_id=vehicle_id, km=km, read_on=read_on, source=source,
        repair_order_id=repair_order_id))


async def record_odometer(tenant_id: uuid.UUID, vehicle_id: uuid.UUID, km: int | str | None,
                          read_on: date | str | None = None) -> VehicleRead | None:
    """A reading entered by hand (API or form values); refused if lower than an earlier one."""
    clean = Cleaner({"km": km, "read_on": read_on})
    checked_km = clean.integer("km", required=True, maximum=2_000_000)
    read_on = clean.date("read_on", not_future=True) or clean.today
    clean.done()
    km = checked_km
    async with tenant_scope(tenant_id):
        vehicle = await Vehicle.get_in_tenant(vehicle_id)
        if vehicle is None:
            return None
        await add_odometer_reading(vehicle_id, km, read_on, source="manual")
        await refresh_vehicle_facts([vehicle_id])
        await refresh_customer_facts([vehicle.customer_id])
        rows = await _vehicle_rows(Vehicle.id == vehicle_id)
    return vehicle_read(rows[0])


async def odometer_history(tenant_id: uuid.UUID, vehicle_id: uuid.UUID) -> list[OdometerRead]:
    async with tenant_scope(tenant_id, write=False):
        rows = await OdometerReading.select_in_tenant().where(
            OdometerReading.vehicle_id == vehicle_id).order_by(OdometerReading.read_on)
    return [OdometerRead(row["read_on"], row["km"], row["source"]) for row in rows]


async def list_vehicle_models() -> list[VehicleModel]:
    return await VehicleModel.objects().order_by(VehicleModel.code)


def _clean_model(data: VehicleModelWrite | Mapping[str, Any]) -> dict[str, Any]:
    clean = Cleaner(data if isinstance(data, Mapping) else msgspec.structs.asdict(data))
    values = {
        "code": clean.text("code", required=True, max_length=32),
        "name": clean.text("name", required=True),
        "maintenance_km": clean.integer("maintenance_km", required=True, minimum=500,
                                        maximum=100_000),
        "maintenance_months": clean.integer("maintenance_months", required=True, minimum=1,
                                            maximum=60),
        "warranty_years": clean.integer("warranty_years", required=True, minimum=0, maximum=20),
        "warranty_km": clean.integer("warranty_km", required=True, minimum=0,
                                     maximum=2_000_000),
    }
    clean.done()
    return values


async def save_vehicle_model(data: VehicleModelWrite | Mapping[str, Any]) -> VehicleModel:
    """Create the model, or change the intervals of the model with the same code (OEM);
    every dealer's vehicles of that model are then re-predicted in the background."""
    values = _clean_model(data)
    async with transaction():
        row = await VehicleModel.objects().where(VehicleModel.code == values["code"]).first()
        if row is None:
            row = VehicleModel(**values)
            await VehicleModel.insert(row)
        else:
            await VehicleModel.update({getattr(VehicleModel, k): v for k, v in values.items()}) \
                .where(VehicleModel.id == row.id)
            for key, value in values.items():
                setattr(row, key, value)
    refresh_model_vehicles.send(row.code)
    return row
