"""The question bank: headquarters authors versioned national questions, dealers add local
ones, bad input is a 400 naming the field."""

from __future__ import annotations

import pytest

from tests.conftest import bearer_for, login_page_session

pytestmark = pytest.mark.anyio
QUESTION = {"key": "test.waiting_area", "kind": "rating", "step": "reception",
            "text_zh": "休息区舒适吗？", "text_en": "Was the waiting area comfortable?"}


async def test_national_questions_are_versioned(client, oem, dealer_a, bank) -> None:
    hq = await bearer_for(client, oem.emails["oem_admin"])
    first = await client.post("/api/v1/survey/questions", headers=hq, json=QUESTION)
    assert first.status_code == 201, first.text
    second = await client.post("/api/v1/survey/questions", headers=hq,
                               json={**QUESTION, "text_en": "Was the lounge comfortable?"})
    assert second.json()["version"] == first.json()["version"] + 1
    dealer = await bearer_for(client, dealer_a.emails["service_advisor"])
    listed = await client.get("/api/v1/survey/questions", headers=dealer)
    mine = [q for q in listed.json() if q["key"] == QUESTION["key"]]
    assert [q["text_en"] for q in mine] == ["Was the lounge comfortable?"]
    refused = await client.post("/api/v1/survey/questions", headers=dealer, json=QUESTION)
    assert refused.status_code == 403


async def test_bad_questions_name_the_field(client, oem, bank) -> None:
    hq = await bearer_for(client, oem.emails["oem_admin"])
    for body, field in (({**QUESTION, "kind": "stars"}, "kind"),
                        ({**QUESTION, "step": "lunch"}, "step"),
                        ({**QUESTION, "kind": "choice"}, "choices"),
                        ({**QUESTION, "colour": "red"}, "colour")):
        response = await client.post("/api/v1/survey/questions", headers=hq, json=body)
        assert response.status_code == 400 and field in response.text, (field, response.text)


async def test_dealer_local_questions(client, dealer_a, dealer_b, bank) -> None:
    admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    bad = await client.post("/api/v1/survey/local-questions", headers=admin, json=QUESTION)
    assert bad.status_code == 400 and "key" in bad.text
    local = await client.post("/api/v1/survey/local-questions", headers=admin,
                              json={**QUESTION, "key": "local.coffee"})
    assert local.status_code == 201 and local.json()["local"] is True
    other = await bearer_for(client, dealer_b.emails["dealer_admin"])
    listed = await client.get("/api/v1/survey/questions", headers=other)
    assert "local.coffee" not in listed.text
    gone = await client.delete(f"/api/v1/survey/local-questions/{local.json()['id']}",
                               headers=other)
    assert gone.status_code == 404
    retired = await client.delete(f"/api/v1/survey/local-questions/{local.json()['id']}",
                                  headers=admin)
    assert retired.json()["status"] == "retired"


async def test_question_pages(client, oem, dealer_a, bank) -> None:
    await login_page_session(client, oem.emails["oem_admin"])
    page = await client.get("/hq/survey/questions")
    assert page.status_code == 200 and "overall.csat" in page.text
    saved = await client.post("/hq/survey/questions", data={
        **QUESTION, "key": "test.page_question", "role": "", "weight": "2", "choices": "",
        "_csrf_token": client.cookies.get("dh_csrf")}, follow_redirects=False)
    assert saved.status_code == 303
    bad = await client.post("/hq/survey/questions", data={
        **QUESTION, "kind": "stars", "role": "", "choices": "",
        "_csrf_token": client.cookies.get("dh_csrf")})
    assert bad.status_code == 400 and "kind" in bad.text
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    assert (await client.get("/survey/questions")).status_code == 200
