"""Third-party webhooks: signed per Standard Webhooks (verified here with the
`standardwebhooks` package), retried with back-off, attempts logged, 410 / 5 days disable the
endpoint with a notice, Retry-After honoured, private addresses refused, replay; inbound
webhooks verified and idempotent."""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from dealerhub.channels import service as channels
from dealerhub.channels.webhooks import http, service
from dealerhub.channels.webhooks.tables import WebhookEndpoint
from dealerhub.platform import events
from dealerhub.platform.config import get_settings
from dealerhub.platform.tenancy import tenant_scope
from tests.conftest import bearer_for
from tests.support.webhook_receiver import Answer

pytestmark = pytest.mark.anyio


async def emit_event(dealer_id, event_type="appointment.booked", **payload) -> uuid.UUID:
    async with tenant_scope(dealer_id):
        event_id = await events.emit(event_type, {"appointment_id": "A1", **payload})
    event = await events.load_event(event_id)
    async with tenant_scope(dealer_id):
        await service.fan_out([event])
    return event_id


async def attempt_all(dealer_id, now: datetime | None = None) -> list[str]:
    jobs: list[tuple[str, str, str]] = []
    await service.dispatch_due(lambda *args: jobs.append(args), now=now)
    return [await service.attempt_delivery(*job) for job in jobs if job[0] == str(dealer_id)]


async def test_delivery_is_signed_per_standard_webhooks(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/hook",
                                            ["appointment.booked"])
    await emit_event(dealer_a.id)
    await emit_event(dealer_a.id, "survey.answered")  # not subscribed
    assert await attempt_all(dealer_a.id) == ["succeeded"]
    (request,) = receiver.for_path("/hook")
    payload = Webhook(created.secret).verify(request.body, request.headers)
    assert payload["type"] == "appointment.booked" and payload["data"]["appointment_id"] == "A1"
    assert request.headers["webhook-id"].startswith("msg_")
    (delivery,) = await service.list_deliveries(dealer_a.id, created.row.id)
    (attempt,) = await service.list_attempts(dealer_a.id, delivery.id)
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok"


async def test_failures_back_off_and_keep_the_same_id(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/flaky", ["*"])
    receiver.answer("/flaky", Answer(500, "boom"), Answer(500, "boom"), Answer(200))
    await emit_event(dealer_a.id)
    now = datetime.now(UTC)
    assert await attempt_all(dealer_a.id, now) == ["pending"]
    assert await attempt_all(dealer_a.id, now) == []  # not due yet
    assert await attempt_all(dealer_a.id, now + timedelta(seconds=6)) == ["pending"]
    assert await attempt_all(dealer_a.id, now + timedelta(minutes=6)) == ["succeeded"]
    ids = {r.headers["webhook-id"] for r in receiver.for_path("/flaky")}
    assert len(ids) == 1 and len(receiver.for_path("/flaky")) == 3
    (delivery,) = await service.list_deliveries(dealer_a.id, created.row.id)
    attempts = await service.list_attempts(dealer_a.id, delivery.id)
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert attempts[0].response_excerpt == "boom"


def test_retry_schedule_spans_more_than_a_day() -> None:
    assert sum(service.RETRY_SCHEDULE) >= 24 * 3600
    delays = [service.next_delay(n, None) for n in range(1, len(service.RETRY_SCHEDULE) + 2)]
    assert delays[:-1] == sorted(delays[:-1]) and delays[-1] is None
    assert service.next_delay(1, 120) == 120


async def test_retry_after_is_honoured_on_429_and_503(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/busy", ["*"])
    receiver.answer("/busy", Answer(429, "slow down", {"Retry-After": "120"}))
    await emit_event(dealer_a.id)
    before = datetime.now(UTC)
    await attempt_all(dealer_a.id)
    (delivery,) = await service.list_deliveries(dealer_a.id, created.row.id)
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)


async def test_410_disables_the_endpoint_and_tells_the_admin(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/gone", ["*"])
    receiver.answer("/gone", Answer(410, "gone"))
    await emit_event(dealer_a.id)
    assert await attempt_all(dealer_a.id) == ["failed"]
    endpoint = await service.get_endpoint(dealer_a.id, created.row.id)
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    alerts = [m for m in await channels.list_messages(dealer_a.id)
              if m.template_key == service.DISABLED_TEMPLATE]
    assert alerts and alerts[0].staff_user_id == dealer_a.users["dealer_admin"]
    await emit_event(dealer_a.id)  # a disabled endpoint gets nothing new
    assert len(await service.list_deliveries(dealer_a.id, created.row.id)) == 1


async def test_five_days_of_failure_disable_the_endpoint(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/down", ["*"])
    receiver.answer("/down", Answer(503, "down"))
    async with tenant_scope(dealer_a.id):
        await WebhookEndpoint.update_in_tenant({
            WebhookEndpoint.failing_since: datetime.now(UTC) - timedelta(days=5, minutes=1)
        }).where(WebhookEndpoint.id == created.row.id)
    await emit_event(dealer_a.id)
    assert await attempt_all(dealer_a.id) == ["failed"]
    endpoint = await service.get_endpoint(dealer_a.id, created.row.id)
    assert not endpoint.enabled and endpoint.disabled_reason == "failing for 5 days"


async def test_hanging_endpoint_times_out_after_ten_seconds(dealer_a, receiver) -> None:
    await service.create_endpoint(dealer_a.id, receiver.url + "/hang", ["*"])
    receiver.answer("/hang", Answer(200, delay=15))
    await emit_event(dealer_a.id)
    started = datetime.now(UTC)
    assert await attempt_all(dealer_a.id) == ["pending"]
    assert 9 <= (datetime.now(UTC) - started).total_seconds() < 14


async def test_redirects_are_not_followed(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/moved", ["*"])
    receiver.answer("/moved", Answer(302, "", {"Location": receiver.url + "/elsewhere"}))
    await emit_event(dealer_a.id)
    assert await attempt_all(dealer_a.id) == ["pending"]
    assert receiver.for_path("/elsewhere") == []
    (delivery,) = await service.list_deliveries(dealer_a.id, created.row.id)
    (attempt,) = await service.list_attempts(dealer_a.id, delivery.id)
    assert attempt.status_code == 302 and "redirect" in attempt.error


async def test_private_addresses_are_refused_unless_allowed(dealer_a, monkeypatch) -> None:
    strict = dataclasses.replace(get_settings(), allow_private_webhooks=False)
    monkeypatch.setattr(http, "get_settings", lambda: strict)
    for url in ("http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://[::1]/x",
                "http://localhost/x", "ftp://example.com/x", "http://169.254.169.254/latest"):
        with pytest.raises(service.WebhookInvalid) as refused:
            await service.create_endpoint(dealer_a.id, url, ["*"])
        assert refused.value.field == "url"


async def test_replay_sends_again(dealer_a, receiver) -> None:
    created = await service.create_endpoint(dealer_a.id, receiver.url + "/replay", ["*"])
    await emit_event(dealer_a.id)
    await attempt_all(dealer_a.id)
    (delivery,) = await service.list_deliveries(dealer_a.id, created.row.id)
    await service.replay(dealer_a.id, delivery.id)
    assert await attempt_all(dealer_a.id) == ["succeeded"]
    assert len(receiver.for_path("/replay")) == 2


async def test_api_and_portal(client, dealer_a, dealer_b, receiver) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    bad = await client.post("/api/v1/webhooks/endpoints", headers=headers,
                            json={"url": "not a url", "event_types": ["*"]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "url"
    unknown = await client.post("/api/v1/webhooks/endpoints", headers=headers,
                                json={"url": receiver.url, "event_types": ["*"], "x": 1})
    assert unknown.status_code == 400
    created = await client.post("/api/v1/webhooks/endpoints", headers=headers,
                                json={"url": receiver.url + "/api", "event_types": ["*"]})
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    await emit_event(dealer_a.id)
    await attempt_all(dealer_a.id)
    deliveries = (await client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries",
                                   headers=headers)).json()
    delivery_id = deliveries[0]["id"]
    attempts = await client.get(f"/api/v1/webhooks/deliveries/{delivery_id}/attempts",
                                headers=headers)
    assert attempts.json()[0]["status_code"] == 200
    replayed = await client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay",
                                 headers=headers)
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    other = await bearer_for(client, dealer_b.emails["dealer_admin"])
    assert (await client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries",
                             headers=other)).status_code == 404
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    assert (await client.get("/api/v1/webhooks/endpoints", headers=advisor)).status_code == 403


# --- inbound ---------------------------------------------------------------------------

def signed_inbound(secret: str, document: dict, msg_id: str | None = None) -> tuple[bytes, dict]:
    body = json.dumps(document)
    msg_id = msg_id or f"msg_{secrets.token_hex(8)}"
    return body.encode(), http.signed_headers(secret, msg_id, body)


async def test_inbound_is_verified_and_idempotent(client, dealer_a) -> None:
    created = await service.create_source(dealer_a.id, "呼叫中心", "call_outcome")
    path = f"/hooks/in/{dealer_a.id}/{created.row.id}"
    document = {"type": "call.completed", "data": {"customer_ref": "C1", "outcome": "booked"}}
    body, headers = signed_inbound(created.secret, document, "msg_call_1")
    first = await client.post(path, content=body, headers=headers)
    again = await client.post(path, content=body, headers=headers)
    assert first.status_code == 202 and not first.json()["duplicate"]
    assert again.json() == {**first.json(), "duplicate": True}
    receipt = await channels.get_inbound_receipt(dealer_a.id, first.json()["receipt_id"])
    assert receipt.event_type == "call.completed"
    from tests.channels.conftest import outbox_events

    announced = [e for e in await outbox_events("inbound.call_outcome")
                 if e["receipt_id"] == first.json()["receipt_id"]]
    assert len(announced) == 1


async def test_inbound_bad_input(client, dealer_a, dealer_b) -> None:
    created = await service.create_source(dealer_a.id, "DMS", "repair_order")
    path = f"/hooks/in/{dealer_a.id}/{created.row.id}"
    document = {"type": "repair_order.closed", "data": {"ro": "R1"}}
    body, headers = signed_inbound(created.secret, document)
    unsigned = await client.post(path, content=body)
    wrong = await client.post(path, content=body,
                              headers=signed_inbound(http.new_secret(), document)[1])
    stale_headers = http.signed_headers(created.secret, "msg_old", body.decode(),
                                        datetime.now(UTC) - timedelta(hours=1))
    stale = await client.post(path, content=body, headers=stale_headers)
    assert [unsigned.status_code, wrong.status_code, stale.status_code] == [401, 401, 401]
    bad_body, bad_headers = signed_inbound(created.secret, {"type": "x", "data": "nope"})
    malformed = await client.post(path, content=bad_body, headers=bad_headers)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["key"] == "data"
    elsewhere = await client.post(f"/hooks/in/{dealer_b.id}/{created.row.id}", content=body,
                                  headers=headers)
    assert elsewhere.status_code == 404
