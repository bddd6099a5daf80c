"""OEM national campaigns run inside each dealer; headquarters sees only counts."""

from __future__ import annotations

import pytest

from dealerhub.platform.campaigns.campaigns import oem as oem_service
from dealerhub.platform.campaigns.campaigns import service
from dealerhub.platform.campaigns.campaigns.tables import OemCampaignResult
from dealerhub.tenants.customers.service import record_consent
from tests.conftest import bearer_for
from tests.platform.campaigns.conftest import vehicle_with
from tests.platform.campaigns.test_campaigns import START

pytestmark = pytest.mark.anyio


async def test_national_campaign_runs_per_dealer_and_hq_sees_only_counts(
        client, dealer_a, dealer_b, dealer_factory, oem):
    customers = []
    for dealer, count in ((dealer_a, 3), (dealer_b, 2)):
        for _ in range(count):
            customer, _ = await vehicle_with(dealer.id, {"name": "李娜"}, model_code="EV1")
            await record_consent(dealer.id, customer.id, "marketing", "sms", True, "test")
            customers.append(customer)
    nobody = await dealer_factory()  # takes part with nobody eligible
    hq = await bearer_for(client, oem.emails["oem_admin"])
    body = {"name": "全国电车关怀", "definition": {"rules": [
        {"field": "model", "op": "in", "values": ["EV1"]}]},
        "texts": {"zh-CN": {"body": "{{ customer_name }}您好，电池免费检测。"}},
        "starts_at": START.isoformat(),
        "dealer_ids": [str(dealer_a.id), str(dealer_b.id), str(nobody.id)]}
    created = await client.post("/api/v1/hq/campaigns", json=body, headers=hq)
    assert created.status_code == 201, created.text
    national = created.json()
    assert national["totals"]["recipients"] == 5
    assert sorted(r["recipients"] for r in national["results"]) == [0, 2, 3]
    # each dealer's own campaign, on its own data, is sent by that dealer
    assert await service.advance_campaigns(dealer_a.id, START) == 3
    await oem_service.refresh_results(national["id"])
    read = await client.get(f"/api/v1/hq/campaigns/{national['id']}", headers=hq)
    assert read.json()["totals"]["contacted"] == 3
    page = await client.get(f"/hq/campaigns/{national['id']}", headers=hq)
    assert page.status_code == 200 and "全国电车关怀" in page.text
    for text in (read.text, created.text, page.text):
        assert "李娜" not in text
        assert not any(str(c.id) in text for c in customers)
    # the aggregate table has no column that could hold a customer or a recipient
    columns = {c._meta.name for c in OemCampaignResult._meta.columns}
    assert not {"customer_id", "recipient_id", "name", "phone"} & columns
    dealer_user = await bearer_for(client, dealer_a.emails["dealer_admin"])
    assert (await client.get(f"/api/v1/hq/campaigns/{national['id']}",
                             headers=dealer_user)).status_code == 403


async def test_national_campaign_bad_input(client, dealer_a, oem):
    hq = await bearer_for(client, oem.emails["oem_admin"])
    body = {"name": "x", "definition": {"rules": [{"field": "nope", "op": "in",
                                                    "values": ["1"]}]},
            "texts": {"zh-CN": {"body": "您好"}}, "starts_at": START.isoformat(),
            "dealer_ids": [str(dealer_a.id)]}
    bad = await client.post("/api/v1/hq/campaigns", json=body, headers=hq)
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "rules[0].field"
    past = await client.post("/api/v1/hq/campaigns", headers=hq, json=body | {
        "definition": {"rules": []}, "starts_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["errors"][0]["key"] == "starts_at"
