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
