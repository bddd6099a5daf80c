"""Booking rules: bad input books nothing, idempotency, concurrency, reschedule and cancel,
reminders, events, the status flow and arrival to repair order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import AppointmentCreate, HolidayCreate, Intake
from dealerhub.platform.appointments.tables import Appointment, Hold, Reminder
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.repair_orders.schemas import RepairOrderOpen
from dealerhub.tenants.repair_orders.service import open_repair_order
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from dealerhub.tenants.vehicles.service import get_vehicle
from tests.platform.appointments.conftest import build_shop, future_day
from tests.tenants.factories import new_customer, new_vehicle, visit

pytestmark = pytest.mark.anyio


def create(shop, starts_at, **fields) -> AppointmentCreate:
    fields.setdefault("job_codes", ["OIL"])
    return AppointmentCreate(vehicle_id=shop.vehicle_id, starts_at=starts_at, **fields)


async def book(shop, starts_at, **fields):
    return (await service.book(shop.tenant_id, create(shop, starts_at, **fields),
                               channel="portal", actor="test")).appointment


async def counts(tenant_id) -> tuple[int, int, int]:
    async with tenant_scope(tenant_id, write=False):
        return (await Appointment.count_in_tenant(), await Hold.count_in_tenant(),
                await Reminder.count_in_tenant())


async def test_booking_stores_estimate_intake_recalls_and_holds(shop) -> None:
    start = shop.local(future_day(), 9)
    intake = Intake(problem="刹车异响", location="前轮", noise="吱吱声", frequency="每次刹车",
                    conditions="低速、冷车")
    booked = await book(shop, start, job_codes=["BRAKE"], intake=intake)
    assert booked.status == "booked" and booked.starts_at == start
    assert booked.ends_at == start + timedelta(minutes=90)
    assert booked.estimate.minutes == 90 and booked.estimate.total_fen == 100000
    assert booked.intake["noise"] == "吱吱声" and booked.recalls == ["R-2026-001"]
    appointments, holds, reminders = await counts(shop.tenant_id)
    # technician + bay over 90 min + 15 min buffer = 7 cells each
    assert (appointments, holds, reminders) == (1, 14, 2)


async def test_booking_offers_declined_work_and_keeps_the_previous_advisor(shop) -> None:
    """The customer base's facts come in the booking's own first read."""
    first = await create_staff(shop.tenant_id, StaffCreate(name="顾问甲", kind="service_advisor"))
    second = await create_staff(shop.tenant_id, StaffCreate(name="顾问乙", kind="service_advisor"))
    await visit(shop.tenant_id, await get_vehicle(shop.tenant_id, shop.vehicle_id),
                datetime.now(UTC) - timedelta(days=40), declined=[("BRAKE", "800")])
    await open_repair_order(shop.tenant_id, RepairOrderOpen(
        vehicle_id=shop.vehicle_id, customer_id=shop.customer_id, ro_type="maintenance",
        opened_at=datetime.now(UTC) - timedelta(days=3), advisor_staff_id=second.id))
    booked = await book(shop, shop.local(future_day(), 9))
    assert [item["operation_code"] for item in booked.declined_offered] == ["BRAKE"]
    assert booked.advisor_staff_id == second.id != first.id


@pytest.mark.parametrize(("when", "field"), [
    (lambda shop: datetime.now(UTC) - timedelta(hours=1), "starts_at"),
    (lambda shop: shop.local(future_day(), 7, 30), "starts_at"),
    (lambda shop: shop.local(future_day(), 17, 45), "starts_at"),
])
async def test_bad_start_time_books_nothing(shop, when, field) -> None:
    with pytest.raises(service.CapacityError) as refused:
        await book(shop, when(shop))
    assert refused.value.field == field
    assert await counts(shop.tenant_id) == (0, 0, 0)


async def test_holiday_books_nothing(shop) -> None:
    day = future_day(9)
    await service.add_holiday(shop.tenant_id, HolidayCreate(day=day, name="国庆"))
    with pytest.raises(service.CapacityError) as refused:
        await book(shop, shop.local(day, 10))
    assert "holiday" in refused.value.message and "国庆" in refused.value.message
    assert await counts(shop.tenant_id) == (0, 0, 0)


async def test_job_not_offered_books_nothing(shop) -> None:
    with pytest.raises(service.CapacityError) as refused:
        await book(shop, shop.local(future_day(), 10), job_codes=["PAINT"])
    assert refused.value.field == "job_codes"
    assert await counts(shop.tenant_id) == (0, 0, 0)


async def test_another_dealers_vehicle_is_not_found(shop) -> None:
    other = await build_shop()
    with pytest.raises(service.NotFoundError) as refused:
        await service.book(shop.tenant_id, AppointmentCreate(
            vehicle_id=other.vehicle_id, starts_at=shop.local(future_day(), 10),
            job_codes=["OIL"]), channel="portal", actor="test")
    assert refused.value.field == "vehicle_id"
    assert await counts(shop.tenant_id) == (0, 0, 0)
    assert await counts(other.tenant_id) == (0, 0, 0)


async def test_taken_time_is_refused_and_nothing_lost(shop) -> None:
    start = shop.local(future_day(), 9)
    await book(shop, start, job_codes=["ELEC"])
    with pytest.raises(service.SlotTaken):
        await book(shop, start, job_codes=["ELEC"])
    assert (await counts(shop.tenant_id))[0] == 1


async def test_idempotency_key_returns_first_result(shop) -> None:
    data = create(shop, shop.local(future_day(), 9))
    first = await service.book(shop.tenant_id, data, channel="api", actor="k",
                               idempotency_key="abc-1")
    again = await service.book(shop.tenant_id, data, channel="api", actor="k",
                               idempotency_key="abc-1")
    assert again.replayed and not first.replayed
    assert again.appointment == first.appointment
    assert (await counts(shop.tenant_id))[0] == 1
    with pytest.raises(service.CapacityError) as refused:
        await service.book(shop.tenant_id, create(shop, shop.local(future_day(), 11)),
                           channel="api", actor="k", idempotency_key="abc-1")
    assert refused.value.field == "Idempotency-Key"


async def test_concurrent_bookings_of_one_technician_slot_give_one_success(database) -> None:
    shop = await build_shop(technicians=1)
    start = shop.local(future_day(), 10)
    results = await asyncio.gather(*[
        service.book(shop.tenant_id, create(shop, start, job_codes=["BRAKE"]),
                     channel="api", actor=f"c{i}") for i in range(12)], return_exceptions=True)
    successes = [r for r in results if isinstance(r, service.Booking)]
    refused = [r for r in results if isinstance(r, service.SlotTaken)]
    assert len(successes) == 1 and len(refused) == 11, results
    assert (await counts(shop.tenant_id))[0] == 1


async def test_reschedule_moves_holds_and_replaces_reminders(shop) -> None:
    booked = await book(shop, shop.local(future_day(6), 9))
    new_start = shop.local(future_day(8), 14)
    moved = await service.reschedule(shop.tenant_id, booked.id, new_start, actor="test")
    assert moved.starts_at == new_start and moved.reschedule_count == 1
    async with tenant_scope(shop.tenant_id, write=False):
        reminders = await Reminder.select_in_tenant().where(Reminder.appointment_id == booked.id)
        holds = await Hold.select_in_tenant(Hold.slot_start)
    pending = sorted(r["due_at"] for r in reminders if r["status"] == "pending")
    assert pending == [new_start - timedelta(hours=72), new_start - timedelta(hours=24)]
    assert sum(r["status"] == "cancelled" for r in reminders) == 2
    assert min(h["slot_start"] for h in holds) == new_start


async def test_refused_reschedule_keeps_the_old_booking(shop) -> None:
    first = await book(shop, shop.local(future_day(), 9), job_codes=["ELEC"])
    blocker = await book(shop, shop.local(future_day(), 14), job_codes=["ELEC"])
    with pytest.raises(service.SlotTaken):
        await service.reschedule(shop.tenant_id, first.id, blocker.starts_at, actor="test")
    kept = await service.get_appointment(shop.tenant_id, first.id)
    assert kept.starts_at == first.starts_at
    async with tenant_scope(shop.tenant_id, write=False):
        assert await Hold.count_in_tenant().where(Hold.appointment_id == first.id) == 10


async def test_delivered_appointment_cannot_be_rescheduled(shop) -> None:
    booked = await book(shop, shop.local(future_day(), 9))
    for status in ("arrived", "in_service", "ready", "delivered"):
        await service.change_status(shop.tenant_id, booked.id, status)
    with pytest.raises(service.StateError) as refused:
        await service.reschedule(shop.tenant_id, booked.id, shop.local(future_day(), 15),
                                 actor="test")
    assert refused.value.field == "status" and "delivered" in refused.value.message
    with pytest.raises(service.StateError):
        await service.cancel(shop.tenant_id, booked.id)


async def test_cancel_frees_capacity_and_cancels_reminders(shop) -> None:
    start = shop.local(future_day(), 9)
    booked = await book(shop, start, job_codes=["ELEC"])
    await service.cancel(shop.tenant_id, booked.id, reason="customer travelling")
    appointments, holds, _ = await counts(shop.tenant_id)
    assert (appointments, holds) == (1, 0)
    again = await book(shop, start, job_codes=["ELEC"])
    assert again.starts_at == start


async def test_reminders_72h_and_24h_only_when_still_ahead(shop) -> None:
    now = datetime.now(UTC)
    soon = await book(shop, shop.local((now + timedelta(days=2)).date(), 12))
    async with tenant_scope(shop.tenant_id, write=False):
        kinds = [r["kind"] for r in await Reminder.select_in_tenant(Reminder.kind).where(
            Reminder.appointment_id == soon.id)]
    assert kinds == ["24h"] or (kinds == [] and soon.starts_at - now <= timedelta(hours=24))


async def test_events_carry_scoring_timestamps(shop) -> None:
    received = datetime.now(UTC) - timedelta(minutes=7)
    booked = await book(shop, shop.local(future_day(), 9), request_received_at=received)
    await service.change_status(shop.tenant_id, booked.id, "arrived")
    rows = await EventOutbox.select().where(EventOutbox.tenant_id == shop.tenant_id).output(
        load_json=True)
    by_type = {row["event_type"]: row["payload"] for row in rows}
    payload = by_type["appointment.booked"]
    assert payload["appointment_id"] == str(booked.id)
    assert datetime.fromisoformat(payload["request_received_at"]) == received
    assert payload["first_response_at"] and payload["booked_at"] and payload["starts_at"]
    assert "advisor_staff_id" in payload and "customer_id" in payload
    assert by_type["appointment.arrived"]["arrived_at"]


async def test_no_show_releases_capacity(shop) -> None:
    start = shop.local(future_day(), 9)
    booked = await book(shop, start, job_codes=["ELEC"])
    await service.change_status(shop.tenant_id, booked.id, "no_show")
    assert (await counts(shop.tenant_id))[1] == 0
    with pytest.raises(service.StateError):
        await service.change_status(shop.tenant_id, booked.id, "arrived")


async def test_arrival_becomes_repair_order_with_intake(shop) -> None:
    from dealerhub.tenants.repair_orders.service import get_repair_order

    booked = await book(shop, shop.local(future_day(), 9), job_codes=["BRAKE"],
                        intake=Intake(problem="刹车异响", noise="吱吱声"))
    converted = await service.arrival_to_repair_order(shop.tenant_id, booked.id, mileage_km=12000)
    assert converted.status == "arrived" and converted.repair_order_id is not None
    order = await get_repair_order(shop.tenant_id, converted.repair_order_id)
    assert order.appointment_id == booked.id and order.ro_type == "repair"
    assert order.intake["noise"] == "吱吱声" and order.intake["job_codes"] == ["BRAKE"]
    assert order.intake["open_recalls"] == ["R-2026-001"]
    again = await service.arrival_to_repair_order(shop.tenant_id, booked.id)
    assert again.repair_order_id == converted.repair_order_id


async def test_other_vehicle_of_same_customer_can_book_in_parallel(shop) -> None:
    customer = await new_customer(shop.tenant_id, name="李娜")
    vehicle = await new_vehicle(shop.tenant_id, customer.id)
    start = shop.local(future_day(), 9)
    first = await book(shop, start)
    second = (await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=vehicle.id, starts_at=start, job_codes=["OIL"]), channel="portal",
        actor="test")).appointment
    assert second.technician_id != first.technician_id and second.bay_id != first.bay_id
