"""Customers over HTTP: API validation, search, pages in both languages, PIPL, OEM refused."""

from __future__ import annotations

import json

import pytest

from dealerhub.platform.tables import AuditLog
from tests.conftest import bearer_for, login_page_session
from tests.tenants.factories import make_vin, new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio


async def test_api_create_refuses_bad_fields_naming_them(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["service_advisor"])
    response = await client.post("/api/v1/customers", headers=headers, json={
        "name": "王伟", "phone": "12345", "email": "nope", "birth_date": "2999-01-01"})
    assert response.status_code == 400
    assert {e["key"] for e in response.json()["errors"]} == {"phone", "email", "birth_date"}
    response = await client.post("/api/v1/customers", headers=headers,
                                 json={"name": "王伟", "colour": "red"})
    assert response.status_code == 400 and "colour" in response.text
    created = await client.post("/api/v1/customers", headers=headers,
                                json={"name": "王伟", "phone": "13800001234"})
    assert created.status_code == 201 and created.json()["phone_e164"] == "+8613800001234"


async def test_search_by_name_phone_suffix_plate_and_vin_prefix(client, dealer_a, dealer_b) -> None:
    wang = await new_customer(dealer_a.id, name="王小明", phone="13811112222")
    li = await new_customer(dealer_a.id, name="李雷", phone="13933334444")
    vin = make_vin(424242)
    await new_vehicle(dealer_a.id, li.id, plate="沪B 88888", vin=vin)
    await new_customer(dealer_b.id, name="王小明", phone="13811112222")
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])

    async def ids(q: str) -> set[str]:
        response = await client.get("/api/v1/customers", headers=headers, params={"q": q})
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    assert await ids("王小") == {str(wang.id)}
    assert await ids("2222") == {str(wang.id)}
    assert await ids("沪B88") == {str(li.id)}
    assert await ids(vin[:8]) == {str(li.id)}
    assert await ids("不存在") == set()


async def test_search_pages_and_sorts(client, dealer_a) -> None:
    for index in range(30):
        await new_customer(dealer_a.id, name=f"客户{index:02d}")
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])
    first = (await client.get("/api/v1/customers", headers=headers,
                              params={"per_page": 25, "sort": "name", "desc": "true"})).json()
    second = (await client.get("/api/v1/customers", headers=headers,
                               params={"per_page": 25, "page": 2, "sort": "name",
                                       "desc": "true"})).json()
    assert first["total"] == 30 and len(first["items"]) == 25 and len(second["items"]) == 5
    assert first["items"][0]["name"] == "客户29"


async def test_oem_users_cannot_open_customer_records(client, dealer_a, oem) -> None:
    customer = await new_customer(dealer_a.id)
    for role in ("oem_admin", "oem_analyst"):
        headers = await bearer_for(client, oem.emails[role])
        for url in ("/api/v1/customers", f"/api/v1/customers/{customer.id}",
                    f"/api/v1/customers/{customer.id}/export"):
            assert (await client.get(url, headers=headers)).status_code == 403
    await login_page_session(client, oem.emails["oem_admin"])
    page = await client.get(f"/customers/{customer.id}", headers={"accept": "text/html"})
    assert page.status_code == 403


async def test_pages_render_in_both_languages_with_empty_states(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["service_advisor"])
    empty = await client.get("/customers")
    assert empty.status_code == 200 and "还没有客户" in empty.text
    customer = await new_customer(dealer_a.id, name="张三丰")
    vehicle = await new_vehicle(dealer_a.id, customer.id, plate="沪C12345")
    await visit(dealer_a.id, vehicle, utc(2025, 5, 1), declined=[("BRAKE", "800")])
    view = await client.get(f"/customers/{customer.id}")
    assert view.status_code == 200
    assert "张三丰" in view.text and "沪C12345" in view.text and "BRAKE" in view.text
    assert "保养" in view.text  # the visit on the timeline, in Chinese
    client.cookies.set("dh_locale", "en")
    await client.get("/lang/en")
    english = await client.get(f"/customers/{customer.id}")
    assert "Dedicated team" in english.text


async def test_form_shows_validation_messages_and_saves(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["service_advisor"])
    token = client.cookies.get("dh_csrf")
    bad = await client.post("/customers/new", data={"name": "", "phone": "123",
                                                    "_csrf_token": token})
    assert bad.status_code == 400 and "is required" in bad.text and "phone" in bad.text
    good = await client.post("/customers/new", data={"name": "陈静", "phone": "13812340000",
                                                     "_csrf_token": token},
                             follow_redirects=False)
    assert good.status_code == 303
    edited = await client.post(good.headers["location"] + "/edit",
                               data={"name": "陈静", "city": "上海", "_csrf_token": token},
                               follow_redirects=False)
    assert edited.status_code == 303


async def test_export_and_erase_are_audited_and_keep_aggregates(client, dealer_a) -> None:
    customer = await new_customer(dealer_a.id, name="隐私测试", phone="13800005555",
                                  email="p@example.com")
    vehicle = await new_vehicle(dealer_a.id, customer.id, plate="沪D00001")
    await visit(dealer_a.id, vehicle, utc(2025, 5, 1), amount="3200")
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    assert (await client.get(f"/api/v1/customers/{customer.id}/export",
                             headers=advisor)).status_code == 403
    exported = await client.get(f"/api/v1/customers/{customer.id}/export", headers=headers)
    assert exported.status_code == 200
    document = json.loads(exported.content)
    assert document["customer"]["phone_e164"] == "+8613800005555"
    assert document["vehicles"][0]["plate"] == "沪D00001"
    assert document["repair_orders"][0]["lines"]
    erased = await client.post(f"/api/v1/customers/{customer.id}/erase", headers=headers)
    assert erased.status_code == 200
    body = erased.json()
    assert body["erased"] and body["phone_e164"] is None and body["email"] is None
    assert body["name"] != "隐私测试"
    assert body["visits_12m"] == 1 or body["spend_12m"]  # aggregates kept
    again = json.loads((await client.get(f"/api/v1/customers/{customer.id}/export",
                                         headers=headers)).content)
    assert "隐私测试" not in json.dumps(again, ensure_ascii=False)
    assert "沪D00001" not in json.dumps(again, ensure_ascii=False)
    assert again["vehicles"][0]["vin"] != vehicle.vin
    assert again["repair_orders"][0]["total_amount"] == "3200.00"
    actions = {row["action"] for row in await AuditLog.select(AuditLog.action).where(
        AuditLog.target == f"customer:{customer.id}")}
    assert {"EXPORT", "ERASE"} <= actions
