"""Staff: kinds, link to the dealer's own users only."""

from __future__ import annotations

import pytest

from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff, list_staff, staff_for_user
from tests.conftest import bearer_for

pytestmark = pytest.mark.anyio


async def test_staff_are_linked_to_this_dealers_users(dealer_a, dealer_b) -> None:
    advisor = await create_staff(dealer_a.id, StaffCreate(
        name="王顾问", kind="service_advisor", user_id=dealer_a.users["service_advisor"],
        phone="13800001111"))
    assert advisor.phone_e164 == "+8613800001111"
    assert (await staff_for_user(dealer_a.id, dealer_a.users["service_advisor"])).id == advisor.id
    assert await staff_for_user(dealer_b.id, dealer_a.users["service_advisor"]) is None
    with pytest.raises(InvalidInput) as refused:
        await create_staff(dealer_a.id, StaffCreate(name="外店", kind="cs_agent",
                                                    user_id=dealer_b.users["cs_agent"]))
    assert refused.value.errors[0].field == "user_id"
    with pytest.raises(InvalidInput):
        await create_staff(dealer_a.id, StaffCreate(name="x", kind="janitor"))
    await create_staff(dealer_a.id, StaffCreate(name="李销售", kind="sales_consultant"))
    assert [s.name for s in await list_staff(dealer_a.id, "sales_consultant")] == ["李销售"]
    assert len(await list_staff(dealer_a.id)) == 2


async def test_only_the_dealer_admin_adds_staff(client, dealer_a) -> None:
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    body = {"name": "赵保险", "kind": "insurance_advisor"}
    assert (await client.post("/api/v1/staff", headers=advisor, json=body)).status_code == 403
    assert (await client.post("/api/v1/staff", headers=admin, json=body)).status_code == 201
    listed = await client.get("/api/v1/staff", headers=advisor)
    assert [s["name"] for s in listed.json()] == ["赵保险"]


async def test_a_departed_advisor_hands_their_customers_to_an_active_colleague(
    client, dealer_a, dealer_b
) -> None:
    from dealerhub.platform.tenancy import tenant_scope
    from dealerhub.tenants.customers.tables import Customer
    from dealerhub.tenants.staff.service import set_staff_active
    from tests.conftest import login_page_session
    from tests.tenants.factories import new_customer

    leaving = await create_staff(dealer_a.id, StaffCreate(name="甲顾问", kind="service_advisor"))
    customers = [await new_customer(dealer_a.id) for _ in range(3)]
    staying = await create_staff(dealer_a.id, StaffCreate(name="乙顾问", kind="service_advisor"))
    chosen = await new_customer(dealer_a.id)
    async with tenant_scope(dealer_a.id):
        await Customer.update_in_tenant({Customer.advisor_staff_id: leaving.id,
                                         Customer.team_set_by_admin: True}).where(
            Customer.id == chosen.id)

    async def advisors() -> dict:
        async with tenant_scope(dealer_a.id, write=False):
            rows = await Customer.select_in_tenant(Customer.id, Customer.advisor_staff_id)
        return {row["id"]: row["advisor_staff_id"] for row in rows}

    assert {(await advisors())[c.id] for c in customers} == {leaving.id}
    admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    url = f"/api/v1/staff/{leaving.id}"
    assert (await client.patch(url, headers=advisor, json={"active": False})).status_code == 403
    bad = await client.patch(url, headers=admin, json={"active": "no"})
    assert bad.status_code == 400 and "active" in bad.text
    other = await bearer_for(client, dealer_b.emails["dealer_admin"])
    assert (await client.patch(url, headers=other, json={"active": False})).status_code == 404

    done = await client.patch(url, headers=admin, json={"active": False})
    assert done.status_code == 200 and done.json()["active"] is False
    after = await advisors()
    assert {after[c.id] for c in customers} == {staying.id}
    assert after[chosen.id] is None  # the admin chose this team: theirs to fill again
    assert [s.name for s in await list_staff(dealer_a.id) if s.active] == ["乙顾问"]

    await login_page_session(client, dealer_a.emails["dealer_admin"])
    page = await client.post(f"/staff/{leaving.id}/active", data={
        "active": "1", "_csrf_token": client.cookies.get("dh_csrf")})
    assert page.status_code == 200 and "甲顾问" in page.text
    member, moved = await set_staff_active(dealer_a.id, leaving.id, True)
    assert member.active and moved == 0
    assert await set_staff_active(dealer_b.id, leaving.id, False) is None
