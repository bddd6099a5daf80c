"""Headquarters' review queue over HTTP: OEM roles only, no customer data in the page or
the JSON, problem documents naming the field, audited decisions, and the review state on
the dealer's own results page."""

from __future__ import annotations

import pytest

from dealerhub.platform.tables import AuditLog
from tests.conftest import bearer_for, create_regional_manager, login_page_session
from tests.survey.test_flag_review import NAME, PLATE, WORDS, _flagged

pytestmark = pytest.mark.anyio
API = "/api/v1/hq/survey/flags"


async def test_dealer_users_are_refused(client, dealer_a, bank) -> None:
    flagged = await _flagged(dealer_a)
    for role, email in dealer_a.emails.items():
        headers = await bearer_for(client, email)
        listed = await client.get(API, headers=headers)
        assert listed.status_code == 403, role
        assert listed.headers["content-type"].startswith("application/problem+json")
        decided = await client.post(f"{API}/{flagged.review_id}/decision", headers=headers,
                                    json={"decision": "clear"})
        assert decided.status_code == 403, role
        await login_page_session(client, email)
        assert (await client.get("/hq/survey/flags")).status_code == 403, role


async def test_oem_lists_without_customer_data_and_decides(client, dealer_a, oem,
                                                           bank) -> None:
    flagged = await _flagged(dealer_a)
    admin = await bearer_for(client, oem.emails["oem_admin"])
    listed = await client.get(API, headers=admin, params={"dealer_id": str(dealer_a.id),
                                                          "review_state": "pending"})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1 and body["page"] == 1
    [item] = body["items"]
    assert item["id"] == str(flagged.review_id) and item["dealer_code"] == dealer_a.code
    assert item["flags"] == [{"kind": "solicited", "label_zh": "疑似索要好评",
                              "label_en": "Mentions asking for a top score"}]
    assert WORDS in item["verbatims"][0] and item["review_state"] == "pending"
    for secret in (NAME, flagged.phone, flagged.phone[3:], PLATE, flagged.vin,
                   str(flagged.invitation_id)):
        assert secret not in listed.text

    analyst = await bearer_for(client, oem.emails["oem_analyst"])
    decided = await client.post(f"{API}/{flagged.review_id}/decision", headers=analyst,
                                json={"decision": "clear", "note": "电话核实为真实评价"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["review_state"] == "cleared"
    assert decided.json()["decisions"][0]["actor"] == oem.emails["oem_analyst"]
    audited = await AuditLog.select(AuditLog.actor, AuditLog.status_code).where(
        AuditLog.target == f"{API}/{flagged.review_id}/decision")
    assert audited == [{"actor": oem.emails["oem_analyst"], "status_code": 200}]
    one = await client.get(f"{API}/{flagged.review_id}", headers=admin)
    assert one.json()["note"] == "电话核实为真实评价" and NAME not in one.text


async def test_bad_input_is_a_problem_naming_the_field(client, dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    headers = await bearer_for(client, oem.emails["oem_admin"])
    url = f"{API}/{flagged.review_id}/decision"
    for body, field_name in (({"decision": "maybe"}, "decision"),
                             ({"decision": "clear", "note": "x" * 2001}, "note"),
                             ({"decision": "clear", "extra": 1}, "extra")):
        refused = await client.post(url, headers=headers, json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field_name in refused.text
    missing = await client.post(f"{API}/{dealer_a.id}/decision", headers=headers,
                                json={"decision": "clear"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    for params, field_name in (({"flag": "nope"}, "flag"),
                               ({"review_state": "done"}, "review_state"),
                               ({"dealer_id": str(flagged.review_id)}, "dealer_id")):
        refused = await client.get(API, headers=headers, params=params)
        assert refused.status_code == 400 and field_name in refused.text, refused.text
    assert (await client.get(f"{API}/{flagged.review_id}", headers=headers)).json()[
        "review_state"] == "pending"


async def test_a_regional_manager_of_another_region_gets_404(client, dealer_a, bank) -> None:
    from dealerhub.platform.tables import AppUser

    flagged = await _flagged(dealer_a)
    manager = await create_regional_manager()
    email = (await AppUser.select(AppUser.email).where(AppUser.id == manager).first())["email"]
    headers = await bearer_for(client, email)
    listed = await client.get(API, headers=headers, params={"dealer_id": str(dealer_a.id)})
    assert listed.status_code == 200 and listed.json()["total"] == 0
    decided = await client.post(f"{API}/{flagged.review_id}/decision", headers=headers,
                                json={"decision": "clear"})
    assert decided.status_code == 404
    own = await AppUser.select(AppUser.email).where(
        AppUser.id == await create_regional_manager(dealer_a.region_id)).first()
    mine = await bearer_for(client, own["email"])
    assert (await client.post(f"{API}/{flagged.review_id}/decision", headers=mine,
                              json={"decision": "uphold"})).status_code == 200


async def test_console_page_and_the_dealers_results_page(client, dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    await login_page_session(client, oem.emails["oem_analyst"])
    client.cookies.set("lang", "en")
    page = await client.get("/hq/survey/flags", params={"dealer": str(dealer_a.id)})
    assert page.status_code == 200, page.text
    assert WORDS in page.text and "Mentions asking for a top score" in page.text
    for secret in (NAME, flagged.phone[3:], PLATE, flagged.vin):
        assert secret not in page.text
    assert 'href="/hq/survey/flags"' in page.text  # in the navigation
    token = client.cookies.get("dh_csrf")
    url = f"/hq/survey/flags/{flagged.review_id}/decision"
    bad = await client.post(url, data={"decision": "maybe", "_csrf_token": token,
                                       "dealer": str(dealer_a.id)})
    assert bad.status_code == 400 and "decision" in bad.text
    done = await client.post(url, data={"decision": "uphold", "note": "多次出现",
                                        "dealer": str(dealer_a.id), "_csrf_token": token},
                             follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/hq/survey/flags?dealer={dealer_a.id}"
    upheld = await client.get(done.headers["location"])
    assert "Upheld: not counted" in upheld.text and "多次出现" in upheld.text
    client.cookies.set("lang", "zh-CN")

    await login_page_session(client, dealer_a.emails["dealer_admin"])
    results = await client.get("/survey/results")
    assert results.status_code == 200
    assert "维持：不计入" in results.text and "疑似索要好评" in results.text


async def test_the_side_navigation_lights_only_the_page_shown(client, oem, bank) -> None:
    """/hq/survey is a prefix of the queue's address: only the longest match is current."""
    import re

    await login_page_session(client, oem.emails["oem_admin"])
    for path in ("/hq/survey/flags", "/hq/survey"):
        page = await client.get(path)
        assert page.status_code == 200
        nav = page.text.split('<aside class="sidenav"', 1)[1].split("</aside>", 1)[0]
        assert re.findall(r'href="([^"]+)" class="active"', nav) == [path]
