"""Dealer portal pages in zh-CN and English: channel settings, message log with the status
timeline, webhook endpoints with attempts and replay; the customer 360 timeline entry."""

from __future__ import annotations

import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.webhooks import service as webhooks
from tests.channels.conftest import SERVICE, deliver_outbox, new_customer
from tests.conftest import login_page_session

pytestmark = pytest.mark.anyio


async def test_message_log_and_timeline_in_both_languages(client, dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer_a.id)
    await login_page_session(client, dealer_a.emails["cs_agent"])
    client.cookies.set("lang", "zh-CN")
    log = await client.get("/messages")
    assert log.status_code == 200 and "消息" in log.text and str(message.id) in log.text
    detail = await client.get(f"/messages/{message.id}")
    assert detail.status_code == 200 and "状态时间线" in detail.text and "已发送" in detail.text
    client.cookies.set("lang", "en")
    detail = await client.get(f"/messages/{message.id}")
    assert "Status timeline" in detail.text and "sent" in detail.text
    missing = await client.get(f"/messages/{customer}", headers={"Accept": "text/html"})
    assert missing.status_code == 404


async def test_settings_and_webhook_pages(client, dealer_a, receiver) -> None:
    created = await webhooks.create_endpoint(dealer_a.id, receiver.url + "/p", ["*"])
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    client.cookies.set("lang", "zh-CN")
    settings = await client.get("/channels")
    assert settings.status_code == 200 and "渠道" in settings.text and "信鸽" in settings.text
    page = await client.get("/webhooks")
    assert page.status_code == 200 and receiver.url in page.text
    token = client.cookies.get("dh_csrf")
    added = await client.post("/webhooks", data={"url": "nope", "event_types": "*",
                                                 "_csrf_token": token})
    assert added.status_code == 400
    endpoint = await client.get(f"/webhooks/{created.row.id}")
    assert endpoint.status_code == 200 and "投递" in endpoint.text


async def test_messages_show_on_the_customer_timeline(dealer_a) -> None:
    from dealerhub.tenants.customers.timeline import timeline

    customer = await new_customer(dealer_a.id)
    await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE, {"vehicle": "TXL"})
    entries = await timeline(dealer_a.id, customer)
    mine = [e for e in entries if e.kind == "message"]
    assert mine and mine[0].status == "queued" and mine[0].href.startswith("/messages/")


async def test_portal_forms_save_settings_and_replay(client, dealer_a, receiver) -> None:
    from dealerhub.channels.credentials import service as credentials
    from tests.channels.test_webhooks import attempt_all, emit_event

    await login_page_session(client, dealer_a.emails["dealer_admin"])
    token = client.cookies.get("dh_csrf")
    saved = await client.post("/channels", data={
        "channel": "carrier_pigeon", "sender": "Loft 9", "loft": "Pudong", "ring_key": "k",
        "enabled": "on", "_csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    (account,) = [a for a in await credentials.list_accounts(dealer_a.id)
                  if a.channel == "carrier_pigeon"]
    assert account.sender == "Loft 9" and account.configured_fields == ["loft", "ring_key"]
    refused = await client.post("/channels", data={"channel": "twilio_sms", "account_sid": "AC",
                                                   "_csrf_token": token})
    assert refused.status_code == 400 and "auth_token" in refused.text
    created = await webhooks.create_endpoint(dealer_a.id, receiver.url + "/portal", ["*"])
    await emit_event(dealer_a.id)
    await attempt_all(dealer_a.id)
    (delivery,) = await webhooks.list_deliveries(dealer_a.id, created.row.id)
    replayed = await client.post(f"/webhooks/deliveries/{delivery.id}/replay",
                                 data={"_csrf_token": token}, follow_redirects=False)
    assert replayed.status_code == 303
    assert await attempt_all(dealer_a.id) == ["succeeded"]
    assert len(receiver.for_path("/portal")) == 2
    toggled = await client.post(f"/webhooks/{created.row.id}/toggle",
                                data={"_csrf_token": token}, follow_redirects=False)
    assert toggled.status_code == 303
    assert not (await webhooks.get_endpoint(dealer_a.id, created.row.id)).enabled
