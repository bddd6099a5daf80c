"""Every due-list rule at its boundaries, in the dealer's own time zone."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, date, datetime, timedelta

import pytest

from dealerhub.platform.campaigns.due_lists import service
from dealerhub.platform.campaigns.due_lists.tables import DueListEntry
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.tables import Customer
from tests.platform.campaigns.conftest import local_now, vehicle_with
from tests.tenants.factories import utc, visit

pytestmark = pytest.mark.anyio
TODAY = date(2026, 6, 15)
ZONE = "America/Los_Angeles"  # local day differs from the UTC day in the evening


async def _reasons_for(tenant_id, vehicle_id=None, customer_id=None) -> set[str]:
    async with tenant_scope(tenant_id, write=False):
        query = DueListEntry.select_in_tenant(DueListEntry.reason)
        if vehicle_id:
            query = query.where(DueListEntry.vehicle_id == vehicle_id)
        if customer_id:
            query = query.where(DueListEntry.customer_id == customer_id)
        return {row["reason"] for row in await query}


@pytest.fixture
async def dealer(dealer_factory):
    return await dealer_factory(time_zone=ZONE)


@pytest.mark.parametrize(("days_after_sale", "listed"), [(89, False), (90, True), (91, True)])
async def test_first_maintenance_three_months_after_sale(dealer, days_after_sale, listed):
    _, vehicle = await vehicle_with(dealer.id, purchase_date=TODAY - timedelta(days_after_sale))
    # 20:00 in Los Angeles is already the next day in UTC: the dealer's day counts
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE, hour=20))
    assert ("first_maintenance" in await _reasons_for(dealer.id, vehicle.id)) is listed


async def test_first_maintenance_not_after_a_maintenance_visit(dealer):
    _, vehicle = await vehicle_with(dealer.id, purchase_date=TODAY - timedelta(90))
    await visit(dealer.id, vehicle, utc(2026, 5, 1))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert "first_maintenance" not in await _reasons_for(dealer.id, vehicle.id)


@pytest.mark.parametrize(("days_before", "listed"), [(15, False), (14, True), (13, True),
                                                     (-1, False)])
async def test_next_maintenance_two_weeks_before(dealer, days_before, listed):
    _, vehicle = await vehicle_with(
        dealer.id, next_maintenance_date=TODAY + timedelta(days_before))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE, hour=23))
    assert ("next_maintenance" in await _reasons_for(dealer.id, vehicle.id)) is listed


@pytest.mark.parametrize(("days_before", "reason"), [
    (31, None), (30, "warranty_1m"), (15, "warranty_1m"), (14, "warranty_2w"), (0, "warranty_2w"),
])
async def test_warranty_one_month_then_two_weeks(dealer, days_before, reason):
    _, vehicle = await vehicle_with(dealer.id, warranty_end=TODAY + timedelta(days_before))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    found = await _reasons_for(dealer.id, vehicle.id) & {"warranty_1m", "warranty_2w"}
    assert found == ({reason} if reason else set())


async def test_second_warranty_invitation_only_without_an_answer(dealer):
    end = TODAY + timedelta(days=20)
    _, answered = await vehicle_with(dealer.id, warranty_end=end)
    _, silent = await vehicle_with(dealer.id, warranty_end=end)
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    async with tenant_scope(dealer.id, write=False):
        entries = {row["vehicle_id"]: row["id"] for row in await DueListEntry.select_in_tenant(
            DueListEntry.id, DueListEntry.vehicle_id).where(DueListEntry.reason == "warranty_1m")}
    await service.record_outcome(dealer.id, entries[answered.id], "declined", "sold the car")
    await service.record_outcome(dealer.id, entries[silent.id], "no_answer")
    await service.generate_due_lists(dealer.id, local_now(TODAY + timedelta(days=6), ZONE))
    assert "warranty_2w" not in await _reasons_for(dealer.id, answered.id)
    assert "warranty_2w" in await _reasons_for(dealer.id, silent.id)


@pytest.mark.parametrize(("last_visit", "listed"), [
    (date(2025, 12, 15), True),   # 6 months exactly
    (date(2025, 12, 16), False),  # a day short of 6 months
    (date(2025, 6, 1), True),
])
async def test_lapsed_out_of_warranty_six_months_without_visit(dealer, last_visit, listed):
    _, vehicle = await vehicle_with(dealer.id, warranty_end=date(2025, 1, 1))
    # a visit at 23:00 local on that day (already the next day in UTC)
    await visit(dealer.id, vehicle, local_now(last_visit, ZONE, hour=23))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert ("lapsed" in await _reasons_for(dealer.id, vehicle.id)) is listed


async def test_lapsed_only_out_of_warranty(dealer):
    _, vehicle = await vehicle_with(dealer.id, warranty_end=TODAY + timedelta(days=400))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert "lapsed" not in await _reasons_for(dealer.id, vehicle.id)


@pytest.mark.parametrize(("days_ahead", "listed"), [(15, False), (14, True), (0, True)])
async def test_vehicle_birthday_two_weeks_ahead(dealer, days_ahead, listed):
    anniversary = TODAY + timedelta(days=days_ahead)
    _, vehicle = await vehicle_with(dealer.id,
                                    purchase_date=anniversary.replace(year=anniversary.year - 2))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert ("vehicle_birthday" in await _reasons_for(dealer.id, vehicle.id)) is listed


async def test_customer_birthday_and_insurance_renewal(dealer):
    customer, vehicle = await vehicle_with(
        dealer.id, {"birth_date": date(1980, 6, 20)}, insurance_expiry=TODAY + timedelta(30))
    _, later = await vehicle_with(dealer.id, insurance_expiry=TODAY + timedelta(31))
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert "customer_birthday" in await _reasons_for(dealer.id, customer_id=customer.id)
    assert "insurance_renewal" in await _reasons_for(dealer.id, vehicle.id)
    assert "insurance_renewal" not in await _reasons_for(dealer.id, later.id)


async def test_free_check_once_a_year_out_of_warranty(dealer):
    _, checked = await vehicle_with(dealer.id, warranty_end=date(2025, 1, 1))
    _, unchecked = await vehicle_with(dealer.id, warranty_end=date(2025, 1, 1))
    await visit(dealer.id, checked, utc(2026, 3, 1), declined=None)
    from dealerhub.tenants.repair_orders.tables import RepairOrderLine

    async with tenant_scope(dealer.id):
        await RepairOrderLine.update_in_tenant(
            {RepairOrderLine.operation_code: "FREE_CHECK"}).where(
            RepairOrderLine.vehicle_id == checked.id)
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert "free_check" not in await _reasons_for(dealer.id, checked.id)
    assert "free_check" in await _reasons_for(dealer.id, unchecked.id)


@pytest.mark.parametrize(("days_ago", "listed"), [(13, False), (14, True), (30, True)])
async def test_declined_work_offered_again_after_dealer_set_days(dealer, days_ago, listed):
    await service.set_declined_work_days(dealer.id, 14)
    _, vehicle = await vehicle_with(dealer.id)
    await visit(dealer.id, vehicle, local_now(TODAY - timedelta(days_ago), ZONE, hour=22),
                declined=[("BRAKE", "800")])
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert ("declined_work" in await _reasons_for(dealer.id, vehicle.id)) is listed


@pytest.mark.parametrize(("months_ago_day", "listed"), [
    (date(2025, 12, 15), True), (date(2025, 12, 16), False)])
async def test_nobody_six_months_without_contact(dealer, months_ago_day, listed):
    customer, _ = await vehicle_with(dealer.id)
    async with tenant_scope(dealer.id):
        await Customer.update_in_tenant({
            Customer.created_at: datetime(2024, 1, 1, tzinfo=UTC),
            Customer.last_visit_at: local_now(months_ago_day, ZONE, hour=12),
        }).where(Customer.id == customer.id)
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert ("no_contact" in await _reasons_for(dealer.id, customer_id=customer.id)) is listed


async def test_generation_is_idempotent_and_catches_up(dealer):
    await vehicle_with(dealer.id, purchase_date=TODAY - timedelta(90))
    first = await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    again = await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert first.by_reason["first_maintenance"] == 1
    assert again.total == 0
    assert dealer.id not in await service.dealers_to_generate(local_now(TODAY, ZONE))
    page = await service.todays_list(dealer.id, now=local_now(TODAY, ZONE))
    assert page.counts["first_maintenance"] == 1
    assert page.entries[0]["plate"] or page.entries[0]["customer_name"]


async def test_a_second_run_waits_for_the_first_and_adds_nothing(dealer):
    """The scheduler may enqueue a dealer again while its first job is still running: the
    second job waits for the first to commit, then finds every entry there, no error."""
    await vehicle_with(dealer.id, purchase_date=TODAY - timedelta(90))
    async with tenant_scope(dealer.id):
        first = await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
        # its own context: outside this scope and its open transaction
        second = asyncio.create_task(
            service.generate_due_lists(dealer.id, local_now(TODAY, ZONE)),
            context=contextvars.Context())
        await asyncio.sleep(0.5)
        assert not second.done()
    assert first.by_reason["first_maintenance"] == 1
    assert (await second).total == 0


async def test_erased_customers_never_listed(dealer):
    customer, vehicle = await vehicle_with(dealer.id, purchase_date=TODAY - timedelta(90))
    async with tenant_scope(dealer.id):
        await Customer.update_in_tenant({Customer.erased_at: datetime.now(UTC)}).where(
            Customer.id == customer.id)
    await service.generate_due_lists(dealer.id, local_now(TODAY, ZONE))
    assert await _reasons_for(dealer.id, vehicle.id) == set()
