"""Availability: opening hours, skills, bays, loaners, quick lane, rework, 10 km pick-up,
previous advisor, time zones and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import AppointmentCreate, AvailabilityQuery
from dealerhub.tenants.customers.schemas import CustomerUpdate
from dealerhub.tenants.customers.service import update_customer
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.platform.appointments.conftest import (
    DEALER_LAT,
    DEALER_LON,
    build_shop,
    future_day,
)
from tests.tenants.factories import visit

pytestmark = pytest.mark.anyio
KM_PER_DEGREE_LAT = 6371.0088 * 3.141592653589793 / 180


def query(shop, preferred: datetime, **fields) -> AvailabilityQuery:
    fields.setdefault("job_codes", ["OIL"])
    return AvailabilityQuery(vehicle_id=shop.vehicle_id, preferred_at=preferred, **fields)


async def test_slots_start_at_preferred_time_and_estimate_is_shown(shop) -> None:
    day = future_day()
    preferred = shop.local(day, 10)
    found = await service.find_slots(shop.tenant_id, query(shop, preferred,
                                                           job_codes=["OIL", "BRAKE"]))
    assert found.proposed is not None and found.proposed.starts_at == preferred
    assert all(preferred <= s.starts_at <= preferred + timedelta(days=1) for s in found.slots)
    assert found.need.minutes == 120 and found.need.labour_fen == 60000
    assert found.need.parts_fen == 90000 and not found.need.quick
    assert found.context.vehicle.open_recalls == ["R-2026-001"]


async def test_proposes_earliest_slot_within_one_day_when_preferred_is_taken(shop) -> None:
    day = future_day()
    preferred = shop.local(day, 17)  # one hour before closing: 90-min BRAKE cannot fit
    found = await service.find_slots(shop.tenant_id, query(shop, preferred,
                                                           job_codes=["BRAKE"]))
    assert found.proposed is not None
    assert found.proposed.starts_at == shop.local(day + timedelta(days=1), 8)


async def test_free_text_problem_maps_to_job_codes(shop) -> None:
    preferred = shop.local(future_day(), 9)
    found = await service.find_slots(shop.tenant_id, query(shop, preferred, job_codes=[],
                                                           problem="刹车有异响，低速时明显"))
    assert found.need.codes == ["BRAKE"]
    unknown = await service.find_slots(shop.tenant_id, query(shop, preferred, job_codes=[],
                                                             problem="something odd"))
    assert unknown.need.codes == ["DIAG"]


async def test_unknown_job_is_refused_naming_the_field(shop) -> None:
    with pytest.raises(service.CapacityError) as refused:
        await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9),
                                                       job_codes=["TYRES"]))
    assert refused.value.field == "job_codes" and "TYRES" in refused.value.message


async def test_skill_is_required(shop) -> None:
    """Only tech0 has the electrical skill: two ELEC jobs cannot share an hour."""
    start = shop.local(future_day(), 9)
    await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=start, job_codes=["ELEC"]),
        channel="portal", actor="test")
    found = await service.find_slots(shop.tenant_id, query(shop, start, job_codes=["ELEC"]))
    assert found.proposed.starts_at == start + timedelta(minutes=75)  # 60 min + 15 buffer
    assert found.proposed.technician_id == shop.technicians["tech0"]


async def test_quick_jobs_use_the_quick_lane_first(shop) -> None:
    found = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9)))
    assert found.need.quick
    assert found.proposed.bay_id == shop.resources["Quick 1"]
    slow = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9),
                                                          job_codes=["BRAKE"]))
    assert slow.proposed.bay_id in (shop.resources["Bay 1"], shop.resources["Bay 2"])


async def test_mobile_service_needs_no_bay_and_only_mobile_jobs(shop) -> None:
    found = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9),
                                                           mobile=True))
    assert found.proposed.bay_id is None
    with pytest.raises(service.CapacityError) as refused:
        await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9),
                                                       job_codes=["BRAKE"], mobile=True))
    assert refused.value.field == "mobile"


async def test_loaner_car_must_be_free(shop) -> None:
    start = shop.local(future_day(), 9)
    await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=start, job_codes=["BRAKE"], loaner=True),
        channel="portal", actor="test")
    found = await service.find_slots(shop.tenant_id, query(shop, start, job_codes=["OIL"],
                                                           loaner=True))
    # the only loaner is out until 10:30 + 15 min buffer
    assert found.proposed.starts_at == start + timedelta(minutes=105)
    assert found.proposed.loaner_id == shop.resources["Loaner 1"]


def point_km_north(km: float) -> tuple[float, float]:
    return DEALER_LAT + km / KM_PER_DEGREE_LAT, DEALER_LON


@pytest.mark.parametrize(("km", "free"), [(9.99, True), (10.0, True), (10.01, False)])
async def test_free_pickup_within_10_km_for_booked_customers(shop, km, free) -> None:
    lat, lon = point_km_north(km)
    found = await service.find_slots(shop.tenant_id, query(
        shop, shop.local(future_day(), 9), pickup=True, pickup_latitude=lat,
        pickup_longitude=lon))
    assert found.pickup.distance_km == pytest.approx(km, abs=0.002)
    assert found.pickup.free is free
    assert found.proposed.driver_id == shop.resources["Driver 1"]


async def test_pickup_without_coordinates_is_not_free(shop) -> None:
    found = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9),
                                                           pickup=True))
    assert found.pickup.distance_km is None and not found.pickup.free


async def test_the_customers_stored_point_counts_when_the_request_names_none(shop) -> None:
    near, far = point_km_north(5), point_km_north(30)
    await update_customer(shop.tenant_id, shop.customer_id, CustomerUpdate(
        home_latitude=near[0], home_longitude=near[1]))
    day = future_day()
    stored = await service.find_slots(shop.tenant_id, query(shop, shop.local(day, 9),
                                                            pickup=True))
    assert stored.pickup.free and stored.pickup.distance_km == pytest.approx(5, abs=0.002)
    named = await service.find_slots(shop.tenant_id, query(
        shop, shop.local(day, 9), pickup=True, pickup_latitude=far[0], pickup_longitude=far[1]))
    assert not named.pickup.free and named.pickup.distance_km == pytest.approx(30, abs=0.01)
    booked = await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=stored.proposed.starts_at, job_codes=["OIL"],
        pickup=True), channel="portal", actor="test")
    assert booked.appointment.pickup_free
    assert booked.appointment.pickup_distance_km == pytest.approx(5, abs=0.002)


async def test_rework_gets_same_day_slot_and_free_pickup_regardless_of_distance(shop) -> None:
    day = future_day()
    now = shop.local(day, 8, 5)
    far = point_km_north(50)
    preferred = shop.local(day + timedelta(days=3), 10)
    plain = await service.find_slots(shop.tenant_id, query(
        shop, preferred, pickup=True, pickup_latitude=far[0], pickup_longitude=far[1]), now=now)
    assert plain.proposed.starts_at == preferred and not plain.pickup.free
    rework = await service.find_slots(shop.tenant_id, query(
        shop, preferred, rework=True, pickup=True, pickup_latitude=far[0],
        pickup_longitude=far[1]), now=now)
    assert rework.pickup.free and rework.pickup.distance_km > 49
    # same day: the first slot after now with an hour for the driver to pick the car up
    assert rework.proposed.starts_at == shop.local(day, 9, 15)


async def test_previous_advisor_is_preferred(shop) -> None:
    first = await create_staff(shop.tenant_id, StaffCreate(name="顾问甲", kind="service_advisor"))
    second = await create_staff(shop.tenant_id, StaffCreate(name="顾问乙", kind="service_advisor"))
    vehicle = await _vehicle(shop)
    await visit(shop.tenant_id, vehicle, datetime.now(UTC) - timedelta(days=30))
    from dealerhub.tenants.repair_orders.schemas import RepairOrderOpen
    from dealerhub.tenants.repair_orders.service import open_repair_order

    await open_repair_order(shop.tenant_id, RepairOrderOpen(
        vehicle_id=shop.vehicle_id, customer_id=shop.customer_id, ro_type="maintenance",
        opened_at=datetime.now(UTC) - timedelta(days=3), advisor_staff_id=second.id))
    found = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9)))
    assert found.advisor_staff_id == second.id != first.id


async def _vehicle(shop):
    from dealerhub.tenants.vehicles.service import get_vehicle

    return await get_vehicle(shop.tenant_id, shop.vehicle_id)


async def test_declined_work_is_offered_again(shop) -> None:
    vehicle = await _vehicle(shop)
    await visit(shop.tenant_id, vehicle, datetime.now(UTC) - timedelta(days=40),
                declined=[("BRAKE", "800")])
    found = await service.find_slots(shop.tenant_id, query(shop, shop.local(future_day(), 9)))
    assert [item["operation_code"] for item in found.context.declined_work] == ["BRAKE"]


async def test_holidays_are_local_dates(shop) -> None:
    from dealerhub.platform.appointments.schemas import HolidayCreate

    day = future_day(10)
    await service.add_holiday(shop.tenant_id, HolidayCreate(day=day, name="店庆"))
    # 23:30 UTC the evening before is 07:30 on the holiday in Shanghai
    found = await service.find_slots(shop.tenant_id, query(
        shop, shop.local(day - timedelta(days=1), 17, 30), job_codes=["OIL"]))
    local_days = {s.starts_at.astimezone(shop.zone).date() for s in found.slots}
    assert day not in local_days
    assert found.proposed.starts_at == shop.local(day - timedelta(days=1), 17, 30)


async def test_time_zone_of_the_dealer_decides_opening_hours(database) -> None:
    urumqi = await build_shop("Asia/Urumqi", hours={str(d): ["09:00", "18:00"] for d in range(7)})
    day = future_day()
    found = await service.find_slots(urumqi.tenant_id, query(urumqi, urumqi.local(day, 6)))
    assert found.proposed.starts_at == datetime(day.year, day.month, day.day, 3, tzinfo=UTC)


async def test_daylight_saving_spring_forward_shifts_utc_start(database) -> None:
    """Berlin moves to summer time on 2027-03-28: 08:00 local is 07:00 UTC the day before
    and 06:00 UTC that day."""
    berlin = await build_shop("Europe/Berlin")
    before, change = date(2027, 3, 27), date(2027, 3, 28)
    found = await service.find_slots(berlin.tenant_id, query(berlin, berlin.local(before, 17, 45),
                                                             job_codes=["BRAKE"]))
    assert found.proposed.starts_at == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
    assert berlin.local(change, 8) == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
    assert berlin.local(before, 8) == datetime(2027, 3, 27, 7, 0, tzinfo=UTC)


async def test_daylight_saving_gap_has_no_phantom_slots(database) -> None:
    night = {str(d): ["01:00", "05:00"] for d in range(7)}
    berlin = await build_shop("Europe/Berlin", hours=night)
    found = await service.find_slots(berlin.tenant_id, query(
        berlin, berlin.local(date(2027, 3, 28), 1), limit=200))
    on_change_day = [s.starts_at for s in found.slots
                     if s.starts_at.astimezone(berlin.zone).date() == date(2027, 3, 28)]
    walls = [s.astimezone(berlin.zone).strftime("%H:%M") for s in on_change_day]
    assert not any(w.startswith("02:") for w in walls)
    assert len(on_change_day) == len(set(on_change_day))
    # 01:00–05:00 local is three real hours that night; a 30-min job + buffer never crosses it
    assert walls[0] == "01:00" and walls[-1] == "04:30"


async def test_daylight_saving_fall_back_keeps_real_durations(database) -> None:
    """Berlin leaves summer time on 2027-10-31 (03:00 → 02:00): a 90-minute job from 01:30
    local ends at 02:00 CET, which is still inside 01:00–04:00 opening."""
    night = {str(d): ["01:00", "04:00"] for d in range(7)}
    berlin = await build_shop("Europe/Berlin", hours=night)
    found = await service.find_slots(berlin.tenant_id, query(
        berlin, berlin.local(date(2027, 10, 31), 1), job_codes=["BRAKE"], limit=200))
    slots = [s for s in found.slots if s.starts_at.astimezone(berlin.zone).date()
             == date(2027, 10, 31)]
    assert all((s.ends_at - s.starts_at) == timedelta(minutes=90) for s in slots)
