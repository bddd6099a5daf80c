"""Derived vehicle facts: robust daily mileage, long trips, next maintenance, warranty."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.vehicles.facts import (
    Reading,
    daily_km,
    long_trip,
    next_maintenance,
    valid_readings,
)
from dealerhub.tenants.vehicles.schemas import VehicleModelWrite, VehicleUpdate
from dealerhub.tenants.vehicles.service import (
    get_vehicle,
    record_odometer,
    save_vehicle_model,
    update_vehicle,
)
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio
D = date


def test_readings_lower_than_an_earlier_one_are_ignored_in_history() -> None:
    history = [Reading(D(2025, 1, 1), 10000), Reading(D(2025, 3, 1), 900),
               Reading(D(2025, 5, 1), 16000)]
    assert [r.km for r in valid_readings(history)] == [10000, 16000]
    assert daily_km(valid_readings(history), None) == round(6000 / 120, 1)


def test_daily_km_from_the_sale_when_there_is_one_reading() -> None:
    assert daily_km([Reading(D(2025, 1, 11), 1000)], D(2025, 1, 1)) == 100.0
    assert daily_km([], D(2025, 1, 1)) is None


def test_long_trip_when_the_latest_rate_jumps() -> None:
    steady = [Reading(D(2025, 1, 1), 0), Reading(D(2025, 7, 1), 5430),
              Reading(D(2025, 8, 1), 6360)]
    jump = [*steady[:2], Reading(D(2025, 8, 1), 5430 + 31 * 120)]
    assert long_trip(steady) is False
    assert long_trip(jump) is True


def test_next_maintenance_takes_whichever_interval_comes_first() -> None:
    # 50 km a day: 10,000 km arrive after 200 days, before 12 months
    by_km = next_maintenance(interval_km=10000, interval_months=12,
                             last_service_on=D(2025, 1, 1), last_service_km=0,
                             last_reading=Reading(D(2025, 1, 1), 0), rate=50.0)
    assert by_km == D(2025, 1, 1) + timedelta(days=200)
    # 10 km a day: 12 months arrive first
    by_time = next_maintenance(interval_km=10000, interval_months=12,
                               last_service_on=D(2025, 1, 1), last_service_km=0,
                               last_reading=Reading(D(2025, 1, 1), 0), rate=10.0)
    assert by_time == D(2026, 1, 1)
    assert next_maintenance(interval_km=1, interval_months=1, last_service_on=None,
                            last_service_km=0, last_reading=None, rate=None) is None


async def test_decreasing_odometer_is_refused_on_entry(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    vehicle = await new_vehicle(dealer_a.id, customer.id, purchase_date=D(2024, 1, 1))
    await record_odometer(dealer_a.id, vehicle.id, 12000, D(2025, 1, 1))
    with pytest.raises(InvalidInput) as refused:
        await record_odometer(dealer_a.id, vehicle.id, 11000, D(2025, 2, 1))
    assert refused.value.errors[0].field == "km" and "lower" in refused.value.errors[0].reason
    with pytest.raises(InvalidInput):
        await record_odometer(dealer_a.id, vehicle.id, 13000, date.today() + timedelta(days=3))
    after = await get_vehicle(dealer_a.id, vehicle.id)
    assert after.last_odometer_km == 12000


async def test_model_intervals_drive_prediction_and_warranty(dealer_a) -> None:
    await save_vehicle_model(VehicleModelWrite(code="T-LX", name="测试", maintenance_km=5000,
                                               maintenance_months=6, warranty_years=3,
                                               warranty_km=100000))
    customer = await new_customer(dealer_a.id)
    vehicle = await new_vehicle(dealer_a.id, customer.id, model_code="T-LX",
                                purchase_date=D(2025, 1, 1))
    assert vehicle.warranty_end == D(2028, 1, 1) and vehicle.warranty_end_km == 100000
    assert vehicle.next_maintenance_date == D(2025, 7, 1)  # 6 months, no mileage known yet
    await visit(dealer_a.id, vehicle, utc(2025, 3, 1), mileage_km=5900)  # 100 km a day
    serviced = await get_vehicle(dealer_a.id, vehicle.id)
    assert serviced.daily_km == 100.0
    # maintenance at 5,900 km on 1 March: the next 5,000 km take 50 days
    assert serviced.next_maintenance_date == D(2025, 3, 1) + timedelta(days=50)
    updated = await update_vehicle(dealer_a.id, vehicle.id, VehicleUpdate(
        insurance_expiry=date.today() + timedelta(days=20)))
    assert updated.insurance_renewal_due is True


async def test_invalid_vin_and_future_purchase_are_refused(client, dealer_a) -> None:
    from tests.conftest import bearer_for

    customer = await new_customer(dealer_a.id)
    headers = await bearer_for(client, dealer_a.emails["service_advisor"])
    response = await client.post("/api/v1/vehicles", headers=headers, json={
        "customer_id": str(customer.id), "vin": "1M8GDM9A1KP042788",
        "purchase_date": (date.today() + timedelta(days=5)).isoformat()})
    assert response.status_code == 400
    errors = {e["key"]: e["message"] for e in response.json()["errors"]}
    assert "check digit" in errors["vin"] and "future" in errors["purchase_date"]


async def test_changing_a_models_interval_re_predicts_its_vehicles(dealer_a) -> None:
    from dealerhub.tenants.vehicles.tasks import refresh_model_vehicles

    await save_vehicle_model(VehicleModelWrite(code="T-RX", name="测试", maintenance_km=10000,
                                               maintenance_months=12))
    customer = await new_customer(dealer_a.id)
    vehicle = await new_vehicle(dealer_a.id, customer.id, model_code="T-RX",
                                purchase_date=D(2025, 1, 1))
    assert vehicle.next_maintenance_date == D(2026, 1, 1)
    await save_vehicle_model(VehicleModelWrite(code="T-RX", name="测试", maintenance_km=10000,
                                               maintenance_months=6))
    await refresh_model_vehicles.fn.__wrapped_async__("T-RX")  # what the queued job runs
    assert (await get_vehicle(dealer_a.id, vehicle.id)).next_maintenance_date == D(2025, 7, 1)
