"""Derived customer facts: loyalty at its boundaries, quality score, dedicated team."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from dealerhub.platform import db
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers import service
from dealerhub.tenants.customers.facts import (
    is_after_sales_loyal,
    is_sales_loyal,
    refresh_customer_facts,
)
from dealerhub.tenants.customers.schemas import TeamUpdate
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio
AS_OF = utc(2026, 6, 15, 10)


async def _facts(tenant_id, customer_id):
    async with tenant_scope(tenant_id):
        await refresh_customer_facts([customer_id], as_of=AS_OF)
        return await Customer.get_in_tenant(customer_id)


async def _customer_with_visits(tenant_id, *visits, **fields):
    customer = await new_customer(tenant_id, **fields)
    vehicle = await new_vehicle(tenant_id, customer.id, purchase_date=date(2023, 1, 1))
    for at, amount, kind in visits:
        await visit(tenant_id, vehicle, at, amount=amount, ro_type=kind)
    return customer


def test_loyalty_rules_at_their_boundaries() -> None:
    assert is_after_sales_loyal(2, Decimal("0")) and not is_after_sales_loyal(1, Decimal("0"))
    assert is_after_sales_loyal(0, Decimal("3000")) and not is_after_sales_loyal(
        1, Decimal("2999.99"))
    assert is_sales_loyal(True, 1) and not is_sales_loyal(True, 0)
    assert is_sales_loyal(False, 3) and not is_sales_loyal(False, 2)


async def test_exactly_two_visits_in_twelve_months_is_loyal(dealer_a) -> None:
    two = await _customer_with_visits(dealer_a.id, (utc(2026, 1, 5), "100", "maintenance"),
                                      (utc(2026, 4, 5), "100", "repair"))
    one = await _customer_with_visits(dealer_a.id, (utc(2026, 1, 5), "100", "maintenance"))
    assert (await _facts(dealer_a.id, two.id)).after_sales_loyal is True
    row = await _facts(dealer_a.id, one.id)
    assert (row.after_sales_loyal, row.visits_12m) == (False, 1)


async def test_exactly_3000_cny_in_twelve_months_is_loyal(dealer_a) -> None:
    exact = await _customer_with_visits(dealer_a.id, (utc(2026, 2, 1), "3000", "repair"))
    under = await _customer_with_visits(dealer_a.id, (utc(2026, 2, 1), "2999.99", "repair"))
    row = await _facts(dealer_a.id, exact.id)
    assert (row.after_sales_loyal, Decimal(str(row.spend_12m))) == (True, Decimal("3000"))
    assert (await _facts(dealer_a.id, under.id)).after_sales_loyal is False


async def test_twelve_months_back_is_inclusive_and_not_a_day_more(dealer_a) -> None:
    edge = await _customer_with_visits(dealer_a.id, (utc(2025, 6, 15, 10), "100", "maintenance"),
                                       (utc(2026, 3, 1), "100", "maintenance"))
    outside = await _customer_with_visits(dealer_a.id,
                                          (utc(2025, 6, 14, 10), "100", "maintenance"),
                                          (utc(2026, 3, 1), "100", "maintenance"))
    assert (await _facts(dealer_a.id, edge.id)).visits_12m == 2
    row = await _facts(dealer_a.id, outside.id)
    assert (row.visits_12m, row.after_sales_loyal) == (1, False)


async def test_rework_is_not_a_loyalty_visit(dealer_a) -> None:
    customer = await _customer_with_visits(dealer_a.id, (utc(2026, 2, 1), "100", "repair"),
                                           (utc(2026, 2, 5), "0", "rework"))
    assert (await _facts(dealer_a.id, customer.id)).visits_12m == 1


async def test_sales_loyalty_counts_referrals(dealer_a) -> None:
    buyer = await new_customer(dealer_a.id, name="成交客户", category="won")
    other = await new_customer(dealer_a.id, name="未成交客户", category="potential")
    await new_customer(dealer_a.id, referred_by_customer_id=buyer.id)
    for _ in range(2):
        await new_customer(dealer_a.id, referred_by_customer_id=other.id)
    assert (await service.get_customer(dealer_a.id, buyer.id)).sales_loyal is True
    row = await service.get_customer(dealer_a.id, other.id)
    assert (row.referral_count, row.sales_loyal) == (2, False)
    await new_customer(dealer_a.id, referred_by_customer_id=other.id)
    assert (await service.get_customer(dealer_a.id, other.id)).sales_loyal is True


async def test_quality_score_rewards_real_use_age_nearness_and_loyalty(dealer_a) -> None:
    near = await new_customer(dealer_a.id, city="上海")
    vehicle = await new_vehicle(dealer_a.id, near.id, purchase_date=date(2023, 1, 1))
    await visit(dealer_a.id, vehicle, utc(2026, 1, 5), amount="3500", mileage_km=40000)
    far = await new_customer(dealer_a.id, city="拉萨")
    assert (await _facts(dealer_a.id, near.id)).quality_score == 100
    assert (await _facts(dealer_a.id, far.id)).quality_score == 0


async def test_team_is_assigned_by_load_and_kept_when_the_admin_sets_it(dealer_a) -> None:
    first = await create_staff(dealer_a.id, StaffCreate(name="顾问甲", kind="service_advisor"))
    second = await create_staff(dealer_a.id, StaffCreate(name="顾问乙", kind="service_advisor"))
    sales = await create_staff(dealer_a.id, StaffCreate(name="销售丙", kind="sales_consultant"))
    customers = [await new_customer(dealer_a.id) for _ in range(4)]
    advisors = [c.advisor_staff_id for c in customers]
    assert advisors.count(first.id) == 2 and advisors.count(second.id) == 2
    assert {c.sales_staff_id for c in customers} == {sales.id}
    assert all(c.insurance_staff_id is None for c in customers)
    chosen = await service.set_team(dealer_a.id, customers[0].id, TeamUpdate(
        advisor_staff_id=second.id, sales_staff_id=sales.id))
    assert chosen.advisor_staff_id == second.id and chosen.team_set_by_admin
    insurance = await create_staff(dealer_a.id, StaffCreate(name="保险丁",
                                                            kind="insurance_advisor"))
    await service.update_customer(dealer_a.id, customers[0].id, {"city": "上海"})
    await service.update_customer(dealer_a.id, customers[1].id, {"city": "上海"})
    kept = await service.get_customer(dealer_a.id, customers[0].id)
    assert kept.advisor_staff_id == second.id and kept.insurance_staff_id is None
    assert (await service.get_customer(dealer_a.id, customers[1].id)).insurance_staff_id \
        == insurance.id
    with pytest.raises(InvalidInput) as refused:
        await service.set_team(dealer_a.id, customers[0].id,
                               TeamUpdate(advisor_staff_id=sales.id))
    assert refused.value.errors[0].field == "advisor_staff_id"


async def test_nightly_refresh_recomputes_every_customer(dealer_a) -> None:
    from dealerhub.tenants.customers.tasks import refresh_dealer_facts

    customer = await _customer_with_visits(dealer_a.id, (utc(2026, 1, 5), "100", "repair"))
    async with tenant_scope(dealer_a.id):
        await Customer.update_in_tenant({Customer.visits_12m: 99}).where(
            Customer.id == customer.id)
    await refresh_dealer_facts.fn.__wrapped_async__(str(dealer_a.id))
    assert (await service.get_customer(dealer_a.id, customer.id)).visits_12m <= 1


async def test_suitable_car_age_counts_the_youngest_car_dated_by_purchase_or_model_year(
        dealer_a) -> None:
    """Ages come from the database's maximum per customer: purchase date where there is one,
    else model year; one young car among old ones is enough."""
    cases = {  # vehicles (purchase date, model year) -> quality score (far away, no visits)
        ((date(2010, 3, 1), 2010), (date(2020, 5, 1), 2020)): 25,
        ((date(2010, 3, 1), 2010), (None, 2022)): 25,
        ((date(2010, 3, 1), 2025), (None, 2012)): 0,  # a purchase date outranks its year
        ((None, None),): 0,
    }
    for vehicles, score in cases.items():
        customer = await new_customer(dealer_a.id, city="拉萨")
        for bought, year in vehicles:
            await new_vehicle(dealer_a.id, customer.id, purchase_date=bought, model_year=year)
        assert (await _facts(dealer_a.id, customer.id)).quality_score == score, vehicles


@pytest.mark.postgres
async def test_a_refresh_holds_its_customers_until_it_commits(dealer_a) -> None:
    """Facts are read only once their customers are held, so a second writer refreshing
    the same customers (the other batch of an import) waits and reads what this one wrote."""
    customer = await new_customer(dealer_a.id)
    refreshed, release = asyncio.Event(), asyncio.Event()

    async def refresh_and_wait() -> None:
        async with tenant_scope(dealer_a.id):
            await refresh_customer_facts([customer.id], as_of=AS_OF)
            refreshed.set()
            await release.wait()

    holder = asyncio.create_task(refresh_and_wait())
    await refreshed.wait()
    try:
        with pytest.raises(asyncpg.LockNotAvailableError):
            async with tenant_scope(dealer_a.id):
                await db.fetch("select id from customer where id = {} for no key update nowait",
                               customer.id)
    finally:
        release.set()
        await holder
    async with tenant_scope(dealer_a.id):  # free again once the refresh committed
        assert await db.fetch("select id from customer where id = {} for no key update nowait",
                              customer.id) == [{"id": customer.id}]
