"""The survey pages: dealer results, complaint board and actions, call list, and the OEM
national view with weak steps and key drivers; plus the complaint API."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.results import service as results
from dealerhub.survey.results.tables import ResponseFact
from tests.conftest import bearer_for, login_page_session
from tests.survey.conftest import visited_customer

pytestmark = pytest.mark.anyio


async def test_empty_pages_render(client, dealer_a, bank) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    for path in ("/survey/results", "/complaints", "/survey/calls", "/complaints/new"):
        response = await client.get(path, headers={"accept-language": "en"})
        assert response.status_code == 200, (path, response.text[:300])
    assert "这里没有投诉" in (await client.get("/complaints?status=all")).text


async def test_complaint_board_and_actions_through_the_pages(client, dealer_a) -> None:
    visited = await visited_customer(dealer_a.id)
    await login_page_session(client, dealer_a.emails["cs_agent"])
    token = client.cookies.get("dh_csrf")
    response = await client.post("/complaints/new", data={
        "customer_id": str(visited.customer_id), "verbatim": "前台态度很差",
        "severity": "normal", "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    detail = response.headers["location"]
    board = await client.get("/complaints")
    assert "前台态度很差" in board.text and "h" in board.text
    bad = await client.post(f"{detail}/interim", data={"note": "", "_csrf_token": token})
    assert bad.status_code == 400 and "note" in bad.text
    ok = await client.post(f"{detail}/interim", data={"note": "已致电道歉", "_csrf_token": token},
                           follow_redirects=False)
    assert ok.status_code == 303
    review = await client.post(f"{detail}/review", data={"note": "x", "_csrf_token": token})
    assert review.status_code == 403  # only the general manager reviews
    assert "已致电道歉" in (await client.get(detail)).text


async def test_complaint_api(client, dealer_a, dealer_b) -> None:
    visited = await visited_customer(dealer_a.id)
    cs = await bearer_for(client, dealer_a.emails["cs_agent"])
    created = await client.post("/api/v1/complaints", headers=cs, json={
        "customer_id": str(visited.customer_id), "verbatim": "电话投诉"})
    assert created.status_code == 201, created.text
    complaint_id = created.json()["id"]
    assert created.json()["interim_due_at"]
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    refused = await client.post("/api/v1/complaints", headers=advisor, json={
        "customer_id": str(visited.customer_id), "verbatim": "x"})
    assert refused.status_code == 403
    unknown = await client.post("/api/v1/complaints", headers=cs, json={
        "customer_id": str(visited.customer_id), "verbatim": "x", "mood": "bad"})
    assert unknown.status_code == 400 and "mood" in unknown.text
    other = await bearer_for(client, dealer_b.emails["cs_agent"])
    assert (await client.get(f"/api/v1/complaints/{complaint_id}",
                             headers=other)).status_code == 404
    assert (await client.get(f"/api/v1/complaints/{complaint_id}", headers=cs)).status_code == 200


async def _facts(dealer, n: int, rng: random.Random) -> None:
    """Responses where reception drives satisfaction and is the weakest step."""
    today = datetime.now(UTC).date()
    rows = []
    for i in range(n):
        reception = rng.choice([0, 25, 50, 75, 100])
        csat = 1 + round(reception / 25 * 0.8 + rng.random() * 0.8)
        rows.append(ResponseFact(
            tenant_id=dealer.id, region_id=dealer.region_id, invitation_id=rng_uuid(rng),
            answered_on=today - timedelta(days=i % 30),
            scores={"reception.prompt": reception, "delivery.explained": 100,
                    "care.updates": rng.choice([75, 100]), "overall.csat": (csat - 1) * 25},
            steps={}, csat=float(csat), nps=None, flagged=False))
    await ResponseFact.insert(*rows)


def rng_uuid(rng: random.Random):
    import uuid

    return uuid.UUID(int=rng.getrandbits(128))


async def test_national_results_weak_steps_and_key_drivers(client, dealer_a, oem, bank) -> None:
    await _facts(dealer_a, 60, random.Random(7))
    found = await results.national_results(30, dealer_a.region_id)
    weak = {s.step for s in found.steps if s.weak}
    assert "reception" in weak and "delivery" not in weak
    assert found.drivers_csat[0].key == "reception.prompt"
    await login_page_session(client, oem.emails["oem_analyst"])
    page = await client.get("/hq/survey", headers={"accept-language": "en"})
    assert page.status_code == 200 and "survey-steps" in page.text
    assert "<script>" not in page.text  # data only; code in a static file
    dealer_page = await results.dealer_results(dealer_a.id, 30)
    assert dealer_page.summary.responses >= 60 and dealer_page.summary.csat is not None


async def test_alerts_are_shown_and_marked_read(client, dealer_a) -> None:
    visited = await visited_customer(dealer_a.id)
    async with tenant_scope(dealer_a.id):
        await complaints.open_complaint(visited.customer_id, "太慢了", source="survey")
    assert await complaints.unread_alerts(dealer_a.id) == 1
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    board = await client.get("/complaints")
    assert 'id="alerts"' in board.text and "太慢了" in board.text
    await client.post("/complaints/alerts/read",
                      data={"_csrf_token": client.cookies.get("dh_csrf")})
    assert await complaints.unread_alerts(dealer_a.id) == 0
