"""Access history: two users read and change a customer, the dealer's auditor lists the
trail (API and page); another dealer's auditor gets 404, other roles 403."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.auth import create_api_key
from dealerhub.platform.tables import AppUser
from tests.conftest import DealerFixture, _password_hash, bearer_for, login_page_session
from tests.tenants.factories import new_vehicle, utc, visit

pytestmark = pytest.mark.anyio
TRAIL = "/api/v1/audit/customer-access"


async def add_auditor(dealer: DealerFixture) -> str:
    email = f"auditor.{dealer.code.lower()}@test.example"
    user = AppUser(email=email, display_name="审计", password_hash=_password_hash(),
                   role="auditor", dealer=dealer.id, region=dealer.region_id)
    await AppUser.insert(user)
    dealer.users["auditor"], dealer.emails["auditor"] = user.id, email
    return email


async def test_reads_and_changes_are_listed_for_the_auditor(client, dealer_a, dealer_b) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    created = await client.post("/api/v1/customers", headers=advisor,
                                json={"name": "韩梅梅", "phone": "13900001111"})
    assert created.status_code == 201
    customer_id = created.json()["id"]
    assert (await client.get(f"/api/v1/customers/{customer_id}", headers=advisor)).status_code \
        == 200
    assert (await client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=advisor)).status_code \
        == 404
    vehicle = await new_vehicle(dealer_a.id, uuid.UUID(customer_id))
    order = await visit(dealer_a.id, vehicle, utc(2025, 6, 1))

    await login_page_session(client, dealer_a.emails["cs_agent"])
    assert (await client.get(f"/customers/{customer_id}")).status_code == 200
    edited = await client.post(f"/customers/{customer_id}/edit", follow_redirects=False, data={
        "name": "韩梅梅", "phone": "13900002222", "_csrf_token": client.cookies.get("dh_csrf")})
    assert edited.status_code == 303
    assert (await client.get(f"/vehicles/{vehicle.id}")).status_code == 200
    assert (await client.get(f"/repair-orders/{order.id}")).status_code == 200
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    assert (await client.get(f"/customers/{customer_id}/export")).status_code == 200

    auditor = await bearer_for(client, await add_auditor(dealer_a))
    trail = await client.get(TRAIL, headers=auditor, params={"customer_id": customer_id})
    assert trail.status_code == 200, trail.text
    body = trail.json()
    assert body["total"] == 7 and body["page"] == 1
    steps = [(e["actor"], e["action"], e["method"], e["target"]) for e in reversed(body["items"])]
    advisor_email, agent_email = dealer_a.emails["service_advisor"], dealer_a.emails["cs_agent"]
    assert steps == [
        (advisor_email, "change", "POST", "/api/v1/customers"),
        (advisor_email, "read", "GET", f"/api/v1/customers/{customer_id}"),
        (agent_email, "read", "GET", f"/customers/{customer_id}"),
        (agent_email, "change", "POST", f"/customers/{customer_id}/edit"),
        (agent_email, "read", "GET", f"/vehicles/{vehicle.id}"),
        (agent_email, "read", "GET", f"/repair-orders/{order.id}"),
        (dealer_a.emails["dealer_admin"], "read", "GET", f"/customers/{customer_id}/export"),
    ]
    first = body["items"][-1]
    assert first["customer_id"] == customer_id and first["status_code"] == 201
    assert first["user_id"] == str(dealer_a.users["service_advisor"])
    assert datetime.fromisoformat(first["at"]) >= started

    by_agent = await client.get(TRAIL, headers=auditor, params={
        "customer_id": customer_id, "user_id": str(dealer_a.users["cs_agent"]),
        "action": "change"})
    assert [e["target"] for e in by_agent.json()["items"]] == [f"/customers/{customer_id}/edit"]
    paged = await client.get(TRAIL, headers=auditor, params={
        "customer_id": customer_id, "per_page": 3, "page": 3})
    assert paged.json()["total"] == 7 and len(paged.json()["items"]) == 1
    future = await client.get(TRAIL, headers=auditor, params={
        "customer_id": customer_id, "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    assert future.json() == {"items": [], "total": 0, "page": 1, "per_page": 50}
    before = await client.get(TRAIL, headers=auditor, params={
        "customer_id": customer_id, "until": started.isoformat()})
    assert before.json()["total"] == 0
    bad = await client.get(TRAIL, headers=auditor, params={"action": "delete"})
    assert bad.status_code == 400 and "action" in bad.text

    other_auditor = await bearer_for(client, await add_auditor(dealer_b))
    assert (await client.get(TRAIL, headers=other_auditor,
                             params={"customer_id": customer_id})).status_code == 404
    theirs = await client.get(TRAIL, headers=other_auditor)
    assert customer_id not in theirs.text

    await login_page_session(client, dealer_a.emails["auditor"])
    client.cookies.set("lang", "en", domain="testserver.local")
    history = await client.get(f"/customers/{customer_id}/access-history")
    assert history.status_code == 200 and "Access history" in history.text
    assert advisor_email in history.text and f"/customers/{customer_id}/edit" in history.text
    client.cookies.set("lang", "zh-CN", domain="testserver.local")
    zh = await client.get("/access-history", params={"action": "read"})
    assert zh.status_code == 200 and "访问记录" in zh.text and "查看" in zh.text
    assert (await client.get("/access-history", params={"since": "soon"})).status_code == 400
    # the auditor reads the trail, not the records themselves
    assert (await client.get(f"/customers/{customer_id}")).status_code == 403
    await login_page_session(client, dealer_b.emails["dealer_admin"])
    assert (await client.get(f"/customers/{customer_id}/access-history")).status_code == 404


async def test_dealer_admin_may_list_other_roles_may_not(client, dealer_a, oem) -> None:
    admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    assert (await client.get(TRAIL, headers=admin)).status_code == 200
    for email in (dealer_a.emails["service_advisor"], dealer_a.emails["cs_agent"],
                  oem.emails["oem_analyst"], oem.emails["oem_admin"]):
        headers = await bearer_for(client, email)
        assert (await client.get(TRAIL, headers=headers)).status_code == 403, email
    key = await create_api_key(dealer_a.id, "audit", ["read", "write"], None)
    assert (await client.get(TRAIL, headers={"Authorization": f"Bearer {key.plaintext}"})
            ).status_code == 403
    await login_page_session(client, dealer_a.emails["service_advisor"])
    assert (await client.get("/access-history")).status_code == 403
    await login_page_session(client, oem.emails["oem_analyst"])
    assert (await client.get("/access-history")).status_code == 403
