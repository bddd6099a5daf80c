"""The OEM's webhook endpoints: events of every dealer they subscribe to, each naming its
dealer and without references to customers, signed per Standard Webhooks, retried, disabled
and replayable like a dealer's; an HQ console page and API that only the OEM admin reaches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from dealerhub.channels.webhooks import service
from dealerhub.channels.webhooks.tables import (
    OemWebhookAttempt,
    OemWebhookDelivery,
    OemWebhookEndpoint,
    WebhookQueue,
)
from tests.channels.test_webhooks import emit_event
from tests.conftest import bearer_for, login_page_session
from tests.support.webhook_receiver import Answer

pytestmark = pytest.mark.anyio
PERSONAL = {"customer_id": "c-1", "vehicle_id": "v-1", "verbatim": "太慢了",
            "related": {"x": "y"}, "scores": {"overall": 2, "customer_id": "c-2"}}


@pytest.fixture(autouse=True)
async def no_oem_endpoints_after(database: None) -> AsyncIterator[None]:
    """OEM endpoints see every dealer's events: none may outlive its test."""
    yield
    await WebhookQueue.delete().where(WebhookQueue.oem == True)  # noqa: E712
    for table in (OemWebhookAttempt, OemWebhookDelivery, OemWebhookEndpoint):
        await table.delete(force=True)


async def attempt_oem(now: Any = None) -> list[str]:
    jobs: list[tuple[Any, ...]] = []
    await service.dispatch_due(lambda *args: jobs.append(args), now=now)
    return [await service.attempt_delivery(*job) for job in jobs if job[3]]


async def test_oem_endpoint_gets_every_dealers_events_without_customer_data(
        dealer_a, dealer_b, receiver) -> None:
    created = await service.create_endpoint(None, receiver.url + "/oem", ["survey.answered"])
    await emit_event(dealer_a.id, "survey.answered", **PERSONAL)
    await emit_event(dealer_b.id, "survey.answered", **PERSONAL)
    await emit_event(dealer_a.id, "appointment.booked")  # not subscribed
    assert await attempt_oem() == ["succeeded", "succeeded"]
    received = [Webhook(created.secret).verify(r.body, r.headers)
                for r in receiver.for_path("/oem")]
    assert {p["dealer"]["code"] for p in received} == {dealer_a.code, dealer_b.code}
    for payload in received:
        assert payload["type"] == "survey.answered"
        assert payload["data"] == {"appointment_id": "A1", "scores": {"overall": 2}}
    deliveries = await service.list_deliveries(None, created.row.id)
    assert {d.dealer_id for d in deliveries} == {dealer_a.id, dealer_b.id}
    (attempt,) = await service.list_attempts(None, deliveries[0].id)
    assert attempt.status_code == 200
    # the OEM's endpoints are not a dealer's, and a dealer's are not the OEM's
    assert await service.get_endpoint(dealer_a.id, created.row.id) is None
    mine = await service.create_endpoint(dealer_a.id, receiver.url + "/mine", ["*"])
    assert await service.get_endpoint(None, mine.row.id) is None
    assert [e.id for e in await service.list_endpoints(None)] == [created.row.id]


async def test_oem_endpoint_retries_is_disabled_by_410_and_replays(dealer_a, receiver) -> None:
    created = await service.create_endpoint(None, receiver.url + "/flaky", ["*"])
    receiver.answer("/flaky", Answer(503, "later", {"Retry-After": "120"}), Answer(410, "gone"),
                    Answer(200, "ok"))
    await emit_event(dealer_a.id)
    assert await attempt_oem() == ["pending"]
    (delivery,) = await service.list_deliveries(None, created.row.id)
    assert (delivery.next_attempt_at - delivery.created_at).total_seconds() >= 119
    assert await attempt_oem(now=delivery.next_attempt_at) == ["failed"]
    endpoint = await service.get_endpoint(None, created.row.id)
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    with pytest.raises(service.WebhookInvalid):
        await service.replay(None, delivery.id)
    await service.update_endpoint(None, created.row.id, enabled=True)
    await service.replay(None, delivery.id)
    assert await attempt_oem() == ["succeeded"]
    ids = {r.headers["webhook-id"] for r in receiver.for_path("/flaky")}
    assert len(receiver.for_path("/flaky")) == 3 and len(ids) == 1


async def test_hq_api_and_console(client, oem, dealer_a, receiver) -> None:
    admin = await bearer_for(client, oem.emails["oem_admin"])
    bad = await client.post("/api/v1/hq/webhooks/endpoints", headers=admin,
                            json={"url": "not a url", "event_types": ["*"]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "url"
    created = await client.post("/api/v1/hq/webhooks/endpoints", headers=admin,
                                json={"url": receiver.url + "/hq", "event_types": ["*"]})
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    dealer_admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    analyst = await bearer_for(client, oem.emails["oem_analyst"])
    for headers in (dealer_admin, analyst):
        assert (await client.get("/api/v1/hq/webhooks/endpoints",
                                 headers=headers)).status_code == 403
    assert (await client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}",
                             headers=dealer_admin)).status_code == 404
    await emit_event(dealer_a.id)
    await attempt_oem()
    deliveries = (await client.get(f"/api/v1/hq/webhooks/endpoints/{endpoint_id}/deliveries",
                                   headers=admin)).json()
    attempts = await client.get(f"/api/v1/hq/webhooks/deliveries/{deliveries[0]['id']}/attempts",
                                headers=admin)
    assert attempts.json()[0]["status_code"] == 200

    await login_page_session(client, oem.emails["oem_admin"])
    listing = await client.get("/hq/webhooks")
    assert listing.status_code == 200 and receiver.url + "/hq" in listing.text
    detail = await client.get(f"/hq/webhooks/{endpoint_id}")
    assert detail.status_code == 200 and "appointment.booked" in detail.text
    form = {"url": receiver.url + "/hq2", "event_types": "repair_order.closed",
            "_csrf_token": client.cookies.get("dh_csrf")}
    added = await client.post("/hq/webhooks", data=form)
    assert added.status_code == 201 and "whsec_" in added.text
