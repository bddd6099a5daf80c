"""Every page of the customer base renders for its users, in Chinese and English."""

from __future__ import annotations

import pytest

from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.conftest import login_page_session
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio


async def test_dealer_pages_render(client, dealer_a) -> None:
    await create_staff(dealer_a.id, StaffCreate(name="顾问甲", kind="service_advisor"))
    customer = await new_customer(dealer_a.id, name="页面客户")
    vehicle = await new_vehicle(dealer_a.id, customer.id, plate="沪F12345")
    order = await visit(dealer_a.id, vehicle, utc(2025, 4, 1), mileage_km=9000,
                        declined=[("TIRE", "1600")])
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    for url, text in [("/customers", "页面客户"), ("/customers/new", "新建客户"),
                      (f"/customers/{customer.id}/edit", "编辑客户"),
                      (f"/customers/{customer.id}/vehicles/new", "添加车辆"),
                      (f"/vehicles/{vehicle.id}", "9000"),
                      (f"/repair-orders/{order.id}", "TIRE"), ("/staff", "顾问甲"),
                      ("/imports", "DMS导入"), ("/", "客户")]:
        page = await client.get(url)
        assert page.status_code == 200, url
        assert text in page.text, url
    token = client.cookies.get("dh_csrf")
    refused = await client.post(f"/vehicles/{vehicle.id}/odometer",
                                data={"km": "100", "_csrf_token": token})
    assert refused.status_code == 400 and "lower than" in refused.text
    team = await client.post(f"/customers/{customer.id}/team",
                             data={"advisor_staff_id": "", "_csrf_token": token},
                             follow_redirects=False)
    assert team.status_code == 303


async def test_oem_model_catalogue_page(client, dealer_a, oem) -> None:
    await login_page_session(client, oem.emails["oem_admin"])
    token = client.cookies.get("dh_csrf")
    saved = await client.post("/hq/vehicle-models/", data={
        "code": "PG-1", "name": "页面车型", "maintenance_km": "7500", "maintenance_months": "6",
        "warranty_years": "3", "warranty_km": "100000", "_csrf_token": token},
        follow_redirects=False)
    assert saved.status_code == 303
    listing = await client.get("/hq/vehicle-models")
    assert "页面车型" in listing.text and "7500" in listing.text
    bad = await client.post("/hq/vehicle-models/", data={
        "code": "PG-2", "name": "x", "maintenance_km": "-1", "maintenance_months": "6",
        "warranty_years": "3", "warranty_km": "100000", "_csrf_token": token})
    assert bad.status_code == 400 and "maintenance_km" in bad.text
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    assert (await client.get("/hq/vehicle-models", headers={"accept": "text/html"})
            ).status_code == 403
