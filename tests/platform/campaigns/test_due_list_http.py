"""Today's due list over HTTP: the CS page in both languages, the API, outcomes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dealerhub.platform.campaigns.due_lists import service
from tests.conftest import bearer_for, login_page_session
from tests.platform.campaigns.conftest import vehicle_with

pytestmark = pytest.mark.anyio


async def test_page_lists_today_and_records_an_outcome(client, dealer_a):
    await vehicle_with(dealer_a.id, {"name": "王芳"}, purchase_date=date.today() - timedelta(95))
    await login_page_session(client, dealer_a.emails["cs_agent"])
    empty = await client.get("/due-lists")
    assert empty.status_code == 200
    assert "今天没有需要联系的客户" in empty.text
    await service.generate_due_lists(dealer_a.id)
    listed = await client.get("/due-lists", params={"reason": "first_maintenance"})
    assert "王芳" in listed.text and "首次保养" in listed.text
    english = await client.get("/due-lists", cookies={"lang": "en"})
    assert "First maintenance" in english.text
    entry_id = (await service.todays_list(dealer_a.id)).entries[0]["id"]
    answered = await client.post(f"/due-lists/{entry_id}/outcome", data={
        "_csrf_token": client.cookies.get("dh_csrf"), "outcome": "declined", "reason": ""},
        follow_redirects=False)
    assert "error=reason" in answered.headers["location"]
    answered = await client.post(f"/due-lists/{entry_id}/outcome", data={
        "_csrf_token": client.cookies.get("dh_csrf"), "outcome": "accepted"},
        follow_redirects=False)
    assert answered.status_code in (302, 303)
    assert (await service.todays_list(dealer_a.id)).total == 0


async def test_api_today_and_outcome_names_bad_fields(client, dealer_a, dealer_b):
    await vehicle_with(dealer_a.id, purchase_date=date.today() - timedelta(90))
    await service.generate_due_lists(dealer_a.id)
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])
    today = (await client.get("/api/v1/due-lists/today", headers=headers)).json()
    assert today["total"] == 1 and today["counts"] == {"first_maintenance": 1}
    bad = await client.get("/api/v1/due-lists/today", params={"reason": "whim"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "reason"
    entry = today["items"][0]["id"]
    wrong = await client.post(f"/api/v1/due-lists/entries/{entry}/outcome",
                              json={"outcome": "maybe"}, headers=headers)
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["key"] == "outcome"
    other = await bearer_for(client, dealer_b.emails["cs_agent"])
    hidden = await client.post(f"/api/v1/due-lists/entries/{entry}/outcome",
                               json={"outcome": "accepted"}, headers=other)
    assert hidden.status_code == 404
