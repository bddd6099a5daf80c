"""Segments and campaigns over HTTP: live count, JSON errors naming fields, pages."""

from __future__ import annotations

import pytest

from dealerhub.tenants.customers.service import record_consent
from tests.conftest import bearer_for, login_page_session
from tests.platform.campaigns.conftest import vehicle_with
from tests.platform.campaigns.test_campaigns import START

pytestmark = pytest.mark.anyio


async def test_segment_count_api_and_campaign_api(client, dealer_a, dealer_b):
    customer, _ = await vehicle_with(dealer_a.id, model_code="A6")
    await record_consent(dealer_a.id, customer.id, "marketing", "sms", True, "test")
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    rules = {"rules": [{"field": "model", "op": "in", "values": ["A6"]}]}
    counted = await client.post("/api/v1/segments/count", json=rules, headers=headers)
    assert counted.status_code == 200 and counted.json() == {"count": 1}
    bad = await client.post("/api/v1/segments/count", headers=headers, json={
        "rules": [{"field": "mileage_km", "op": "between", "min": 5, "max": 1}]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "rules[0].max"
    segment = (await client.post("/api/v1/segments", json={"name": "A6", "definition": rules},
                                 headers=headers)).json()
    body = {"name": "春季", "texts": {"zh-CN": {"body": "您好"}},
            "starts_at": START.isoformat(), "segment_id": segment["id"]}
    past = await client.post("/api/v1/campaigns", headers=headers,
                             json=body | {"starts_at": "2020-01-01T09:00:00+08:00"})
    assert past.status_code == 400 and past.json()["errors"][0]["key"] == "starts_at"
    created = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["recipients"] == 1
    campaign_id = created.json()["id"]
    results = await client.get(f"/api/v1/campaigns/{campaign_id}/results", headers=headers)
    assert results.json()["treatment"]["recipients"] == 1
    other = await bearer_for(client, dealer_b.emails["dealer_admin"])
    for path in (f"/api/v1/campaigns/{campaign_id}", f"/api/v1/segments/{segment['id']}"):
        assert (await client.get(path, headers=other)).status_code == 404
    stolen = await client.post("/api/v1/campaigns", json=body, headers=other)
    assert stolen.status_code == 400 and stolen.json()["errors"][0]["key"] == "segment_id"


async def test_builder_page_live_count_and_campaign_pages(client, dealer_a):
    customer, _ = await vehicle_with(dealer_a.id, model_code="Q5")
    await record_consent(dealer_a.id, customer.id, "marketing", "sms", True, "test")
    await login_page_session(client, dealer_a.emails["cs_agent"])
    builder = await client.get("/campaigns/segments")
    assert builder.status_code == 200 and "还没有客户群" in builder.text
    csrf = client.cookies.get("dh_csrf")
    count = await client.post("/campaigns/segments/count", data={
        "_csrf_token": csrf, "model": "Q5"}, headers={"HX-Request": "true"})
    assert "<strong>1</strong>" in count.text
    wrong = await client.post("/campaigns/segments/count", data={
        "_csrf_token": csrf, "daily_km_min": "9", "daily_km_max": "1"})
    assert "rules[0].max" in wrong.text
    saved = await client.post("/campaigns/segments", data={
        "_csrf_token": csrf, "name": "Q5 车主", "model": "Q5"}, follow_redirects=False)
    assert saved.status_code in (302, 303)
    assert "暂无营销活动" in (await client.get("/campaigns")).text
    form = await client.get("/campaigns/new")
    assert "Q5 车主" in form.text
    import re

    segment_id = re.search(r'value="segment:([0-9a-f-]+)"', form.text).group(1)
    refused = await client.post("/campaigns", data={
        "_csrf_token": csrf, "name": "x", "source": f"segment:{segment_id}",
        "starts_at": "2020-01-01T09:00", "text_zh-CN": "您好"})
    assert refused.status_code == 400 and "starts_at" in refused.text
    created = await client.post("/campaigns", data={
        "_csrf_token": csrf, "name": "Q5 夏季", "source": f"segment:{segment_id}",
        "starts_at": "2030-06-01T10:00", "text_zh-CN": "您好", "hold_out_percent": "0"},
        follow_redirects=False)
    assert created.status_code in (302, 303), created.text
    detail = await client.get(created.headers["location"])
    assert detail.status_code == 200 and "Q5 夏季" in detail.text
    english = await client.get("/campaigns", cookies={"lang": "en"})
    assert "Q5 夏季" in english.text and "Campaigns" in english.text
