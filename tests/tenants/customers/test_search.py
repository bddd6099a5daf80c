"""Customer search in the service: the one-statement page (matches counted by a window,
plates joined), pages past the end, sorting, and the reversed-phone column kept current by
every way a phone number changes."""

from __future__ import annotations

import pytest

from dealerhub.platform import db
from dealerhub.platform.tenancy import NoTenantScope, tenant_scope
from dealerhub.tenants.customers.schemas import CustomerUpdate
from dealerhub.tenants.customers.service import search_customers, update_customer
from dealerhub.tenants.imports.service import import_rows
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio


def _names(found) -> list[str]:
    return [row["name"] for row in found.customers]


async def test_a_search_counts_every_match_and_lists_each_customer_once_with_all_plates(
        dealer_a, dealer_b) -> None:
    for index in range(7):
        await new_customer(dealer_a.id, name=f"欧阳{index}")
    owner = await new_customer(dealer_a.id, name="欧阳车主")
    await new_vehicle(dealer_a.id, owner.id, plate="沪E11111")
    await new_vehicle(dealer_a.id, owner.id, plate="沪E22222")
    await new_customer(dealer_b.id, name="欧阳别家")

    first = await search_customers(dealer_a.id, "欧阳", per_page=5)
    second = await search_customers(dealer_a.id, "欧阳", page=2, per_page=5)
    assert first.total == second.total == 8
    assert _names(first) == [f"欧阳{i}" for i in range(5)]
    assert _names(second) == ["欧阳5", "欧阳6", "欧阳车主"]
    assert second.plates == {owner.id: ["沪E11111", "沪E22222"]}

    by_plate = await search_customers(dealer_a.id, "沪E")
    assert [row["id"] for row in by_plate.customers] == [owner.id] and by_plate.total == 1


async def test_a_page_past_the_last_still_counts_the_matches(dealer_a) -> None:
    for index in range(3):
        await new_customer(dealer_a.id, name=f"司马{index}")
    past = await search_customers(dealer_a.id, "司马", page=4, per_page=2)
    assert past.customers == [] and past.total == 3
    everyone = await search_customers(dealer_a.id, "", page=9, per_page=2)
    assert everyone.customers == [] and everyone.total == 3
    nothing = await search_customers(dealer_a.id, "没有这个人")
    assert nothing.customers == [] and nothing.total == 0


async def test_sorted_descending_by_name_and_by_last_visit(dealer_a) -> None:
    for name, month in (("诸葛亮", 5), ("诸葛瑾", 3), ("诸葛恪", 4)):
        customer = await new_customer(dealer_a.id, name=name)
        await visit(dealer_a.id, await new_vehicle(dealer_a.id, customer.id), utc(2025, month, 1))
    found = await search_customers(dealer_a.id, "诸葛", sort="name", descending=True)
    assert _names(found) == sorted(_names(found), reverse=True) and found.total == 3
    by_visit = await search_customers(dealer_a.id, "诸葛", sort="last_visit", descending=True)
    assert _names(by_visit) == ["诸葛亮", "诸葛恪", "诸葛瑾"]


async def test_phone_suffix_follows_an_edit_of_the_phone(dealer_a) -> None:
    customer = await new_customer(dealer_a.id, name="上官婉", phone="13800004711")
    assert _names(await search_customers(dealer_a.id, "4711")) == ["上官婉"]
    await update_customer(dealer_a.id, customer.id, CustomerUpdate(phone="13900008822"))
    assert _names(await search_customers(dealer_a.id, "4711")) == []
    assert _names(await search_customers(dealer_a.id, "008822")) == ["上官婉"]
    await update_customer(dealer_a.id, customer.id, CustomerUpdate(name="上官婉儿"))
    assert _names(await search_customers(dealer_a.id, "8822")) == ["上官婉儿"]


async def test_phone_suffix_finds_imported_customers_and_follows_a_reimport(dealer_a) -> None:
    await import_rows(dealer_a.id, "customers",
                      [{"external_id": "S1", "name": "东方明", "phone": "13800005931"}], None)
    assert _names(await search_customers(dealer_a.id, "5931")) == ["东方明"]
    await import_rows(dealer_a.id, "customers",
                      [{"external_id": "S1", "name": "东方明", "phone": "13700006042"}], None)
    assert _names(await search_customers(dealer_a.id, "5931")) == []
    assert _names(await search_customers(dealer_a.id, "6042")) == ["东方明"]


async def test_a_search_inside_a_scope_joins_it_and_refuses_another_dealers(dealer_a,
                                                                            dealer_b) -> None:
    await new_customer(dealer_a.id, name="慕容复")
    async with tenant_scope(dealer_a.id, write=False):
        assert _names(await search_customers(dealer_a.id, "慕容")) == ["慕容复"]
    with pytest.raises(NoTenantScope):
        async with tenant_scope(dealer_b.id, write=False):
            await search_customers(dealer_a.id, "慕容")


@pytest.mark.postgres
async def test_the_one_statement_page_reads_one_dealer_and_leaves_no_tenant_behind(
        dealer_a, dealer_b) -> None:
    mine = await new_customer(dealer_a.id, name="公孙胜")
    await new_customer(dealer_b.id, name="公孙胜")
    page = ("select p.*, null::varchar as plate from (select c.id, c.name, c.phone_e164, "
            "c.category, c.after_sales_loyal, c.last_visit_at, c.erased_at, c.created_at, "
            "c.spend_12m, count(*) over () as total from customer c) p")  # no tenant filter
    async with db.engine().pool.acquire() as connection:  # the search's pooled connection
        rows = await connection.fetch(
            "select * from customer_search_page($1, $2, null, null, 25, 0)", dealer_a.id, page)
        assert [(row["id"], row["total"]) for row in rows] == [(mine.id, 1)]  # RLS filtered
        assert await connection.fetchval("select current_setting('app.tenant_id', true)") == ""
        assert await connection.fetch("select id from customer") == []
