"""The customer's stored pick-up point (home or work): both coordinates or neither, in
range, from the API, forms and imports; erased with the rest of the personal data."""

from __future__ import annotations

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers import privacy
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.imports.service import import_errors, import_rows
from tests.conftest import bearer_for

pytestmark = pytest.mark.anyio


async def test_api_stores_a_point_and_refuses_half_or_out_of_range(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["service_advisor"])
    created = await client.post("/api/v1/customers", headers=headers, json={
        "name": "王伟", "home_latitude": 31.2304, "home_longitude": 121.4737})
    assert created.status_code == 201, created.text
    assert (created.json()["home_latitude"], created.json()["home_longitude"]) == (
        31.2304, 121.4737)
    url = f"/api/v1/customers/{created.json()['id']}"
    for body, field in (({"name": "李娜", "home_latitude": 31.2}, "home_longitude"),
                        ({"name": "李娜", "home_latitude": 95, "home_longitude": 121},
                         "home_latitude")):
        refused = await client.post("/api/v1/customers", headers=headers, json=body)
        assert refused.status_code == 400
        assert [e["key"] for e in refused.json()["errors"]] == [field]
    half = await client.patch(url, headers=headers, json={"home_latitude": 30.0})
    assert half.status_code == 400 and half.json()["errors"][0]["key"] == "home_longitude"
    cleared = await client.patch(url, headers=headers,
                                 json={"home_latitude": None, "home_longitude": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["home_latitude"] is None


async def test_import_reads_the_point_and_erase_removes_it(dealer_a) -> None:
    job = await import_rows(dealer_a.id, "customers", [
        {"external_id": "P1", "name": "周杰", "纬度": "31.1", "经度": "121.3"},
        {"external_id": "P2", "name": "吴芳", "纬度": "31.1"},
        {"external_id": "P3", "name": "赵敏", "纬度": "北纬31", "经度": "121.3"},
    ], None)
    assert (job.applied_rows, job.error_rows) == (1, 2)
    assert {(e.row_number, e.field) for e in await import_errors(dealer_a.id, job.id)} == {
        (2, "home_longitude"), (3, "home_latitude")}
    async with tenant_scope(dealer_a.id, write=False):
        stored = await Customer.objects_in_tenant().where(Customer.external_id == "P1").first()
    assert (stored.home_latitude, stored.home_longitude) == (31.1, 121.3)
    assert await privacy.erase_customer(dealer_a.id, stored.id)
    async with tenant_scope(dealer_a.id, write=False):
        erased = await Customer.get_in_tenant(stored.id)
    assert (erased.home_latitude, erased.home_longitude) == (None, None)
