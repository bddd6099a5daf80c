"""Twilio SMS, voice and WhatsApp through the real `twilio` SDK over HTTP to a local
stand-in; status callbacks and replies signed with Twilio's own RequestValidator."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from dealerhub.channels import service as channels
from dealerhub.platform.config import get_settings
from tests.channels.conftest import (
    MARKETING,
    SERVICE,
    deliver_outbox,
    new_customer,
    new_phone,
    outbox_events,
    save_account,
)

pytestmark = pytest.mark.anyio


def signed(config: dict[str, str], path: str, params: dict[str, str]) -> tuple[bytes, dict]:
    url = get_settings().public_base_url + path
    signature = RequestValidator(config["auth_token"]).compute_signature(url, params)
    return urlencode(params).encode(), {"X-Twilio-Signature": signature,
                                        "Content-Type": "application/x-www-form-urlencoded"}


async def sent_sms(dealer, twilio_config, **customer_fields):
    await save_account(dealer.id, "twilio_sms", twilio_config)
    customer = await new_customer(dealer.id, **customer_fields)
    message = await channels.enqueue_message(dealer.id, customer, "service", SERVICE,
                                             {"vehicle": "星途 TXL"},
                                             related={"appointment_id": "A1"})
    assert await deliver_outbox(dealer.id) == {"sent": 1}
    return customer, await channels.get_message(dealer.id, message.id)


async def test_sms_is_sent_through_the_sdk(dealer_a, twilio_api, twilio_config) -> None:
    _, message = await sent_sms(dealer_a, twilio_config)
    assert message.status == "sent" and message.provider_id.startswith("SM")
    request = next(r for r in twilio_api.sent
                   if r.headers.get("I-Twilio-Idempotency-Token") == str(message.id))
    assert request.form["Body"].endswith("该保养了。")
    assert request.path == f"/2010-04-01/Accounts/{twilio_config['account_sid']}/Messages.json"
    assert request.form["From"] == "+8610690000"
    assert request.form["StatusCallback"].endswith(
        f"/hooks/channels/twilio_sms/{dealer_a.id}?message_id={message.id}")
    assert request.headers["I-Twilio-Idempotency-Token"] == str(message.id)
    sent = await outbox_events("message.sent", message.id)
    assert sent and sent[0]["related"] == {"appointment_id": "A1"}


async def test_voice_reads_the_message_aloud(dealer_a, twilio_api, twilio_config) -> None:
    await save_account(dealer_a.id, "twilio_voice", twilio_config)
    customer = await new_customer(dealer_a.id, preferred_channel="voice")
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"}, channel="voice")
    await deliver_outbox(dealer_a.id)
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "sent" and detail.provider_id.startswith("CA")
    call = next(r for r in twilio_api.sent if r.path.endswith("/Calls.json")
                and r.headers.get("I-Twilio-Idempotency-Token") == str(message.id))
    assert "<Say" in call.form["Twiml"] and 'language="cmn-CN"' in call.form["Twiml"]
    assert "TXL该保养了" in call.form["Twiml"]


async def test_whatsapp_uses_whatsapp_addresses(dealer_a, twilio_api, twilio_config) -> None:
    await save_account(dealer_a.id, "twilio_whatsapp", twilio_config)
    customer = await new_customer(dealer_a.id, preferred_channel="whatsapp")
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer_a.id)
    request = next(r for r in twilio_api.sent
                   if r.headers.get("I-Twilio-Idempotency-Token") == str(message.id))
    assert request.form["To"].startswith("whatsapp:+86") and \
        request.form["From"] == "whatsapp:+8610690000"


async def test_invalid_number_falls_back_to_the_next_channel(dealer_a, twilio_api,
                                                             twilio_config) -> None:
    phone = new_phone()
    twilio_api.invalid_numbers.add(phone)
    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    await save_account(dealer_a.id, "webhook", {"url": "http://127.0.0.1:9/unused",
                                                 "secret": "whsec_" + "A" * 43, "medium": "email"})
    customer = await new_customer(dealer_a.id, phone=phone, email="wang@example.com")
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer_a.id)
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "queued" and detail.channel == "webhook" and detail.medium == "email"
    assert any("21211" in change.detail for change in detail.timeline)


async def test_temporary_failure_is_retried_later(dealer_a, twilio_api, twilio_config) -> None:
    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    twilio_api.fail_next(503, 20503)
    assert await deliver_outbox(dealer_a.id) == {"temporary": 1}
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "queued" and detail.not_before > detail.created_at
    assert await deliver_outbox(dealer_a.id, now=detail.not_before) == {"sent": 1}


async def callback(client, dealer, config, params: dict[str, str], channel: str = "twilio_sms"):
    path = f"/hooks/channels/{channel}/{dealer.id}"
    body, headers = signed(config, path, params)
    return await client.post(path, content=body, headers=headers)


async def test_status_callbacks_move_forward_only(client, dealer_a, twilio_config) -> None:
    _, message = await sent_sms(dealer_a, twilio_config)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered",
              "AccountSid": twilio_config["account_sid"]}
    for _ in range(2):  # twice: no second effect
        response = await callback(client, dealer_a, twilio_config, params)
        assert response.status_code == 200 and "<Response>" in response.text
    late_sent = {**params, "MessageStatus": "sent"}  # out of order
    assert (await callback(client, dealer_a, twilio_config, late_sent)).status_code == 200
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "delivered" and detail.delivered_at is not None
    assert [c.status for c in detail.timeline].count("delivered") == 1
    assert len(await outbox_events("message.delivered", message.id)) == 1


async def test_unsigned_or_wrongly_signed_callbacks_change_nothing(client, dealer_a,
                                                                   twilio_config) -> None:
    _, message = await sent_sms(dealer_a, twilio_config)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    path = f"/hooks/channels/twilio_sms/{dealer_a.id}"
    unsigned = await client.post(path, content=urlencode(params).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    body, headers = signed({**twilio_config, "auth_token": "0" * 32}, path, params)
    wrong = await client.post(path, content=body, headers=headers)
    body, headers = signed(twilio_config, path, params)
    tampered = await client.post(path, content=body.replace(b"delivered", b"failed"),
                                 headers=headers)
    assert [unsigned.status_code, wrong.status_code, tampered.status_code] == [401, 401, 401]
    assert (await channels.get_message(dealer_a.id, message.id)).status == "sent"


async def test_unknown_ids_malformed_and_unknown_targets(client, dealer_a, twilio_config) -> None:
    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    unknown = await callback(client, dealer_a, twilio_config,
                             {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"})
    assert unknown.status_code == 200
    malformed = await callback(client, dealer_a, twilio_config, {"Foo": "bar"})
    assert malformed.status_code == 400 and "MessageSid" in malformed.text
    nowhere = await client.post("/hooks/channels/no_such_channel", content=b"")
    assert nowhere.status_code == 404


async def test_reply_stop_withdraws_marketing_consent(client, dealer_a, twilio_config) -> None:
    from dealerhub.tenants.customers import service as customers

    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    customer = await new_customer(dealer_a.id, consents={"marketing": {"sms": True,
                                                                       "email": True}})
    message = await channels.enqueue_message(dealer_a.id, customer, "marketing", MARKETING,
                                             {"vehicle": "TXL"},
                                             not_before=None)
    profile = await customers.contact_profile(dealer_a.id, customer)
    await deliver_outbox(dealer_a.id, now=message.not_before)
    response = await callback(client, dealer_a, twilio_config, {
        "MessageSid": "SM" + "1" * 32, "SmsStatus": "received", "Body": " 退订 ",
        "From": profile.phone_e164, "To": "+8610690000"})
    assert response.status_code == 200
    profile = await customers.contact_profile(dealer_a.id, customer)
    assert profile.consents["marketing"]["email"] is False
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "replied" and detail.reply_class == "stop"
    replied = await outbox_events("message.replied", message.id)
    assert replied[0]["reply"] == "stop" and "退订" not in str(replied)
    again = await channels.enqueue_message(dealer_a.id, customer, "marketing", MARKETING,
                                           {"vehicle": "TXL"})
    assert again.reason == "no consent"


async def test_reply_digit_goes_to_the_survey_once(client, dealer_a, twilio_config) -> None:
    customer, message = await sent_sms(dealer_a, twilio_config)
    profile_phone = (await _phone(dealer_a.id, customer))
    reply = {"MessageSid": "SM" + "2" * 32, "SmsStatus": "received", "Body": "4",
             "From": profile_phone, "To": "+8610690000"}
    for _ in range(2):  # Twilio retries: one effect
        assert (await callback(client, dealer_a, twilio_config, reply)).status_code == 200
    digits = await outbox_events("sms.reply_digit", message.id)
    assert len(digits) == 1
    assert digits[0]["digit"] == 4 and digits[0]["related"] == {"appointment_id": "A1"}
    assert digits[0]["customer_id"] == str(customer)


async def _phone(dealer_id, customer_id) -> str:
    from dealerhub.tenants.customers import service as customers

    return (await customers.contact_profile(dealer_id, customer_id)).phone_e164


async def test_voice_status_callback(client, dealer_a, twilio_config) -> None:
    await save_account(dealer_a.id, "twilio_voice", twilio_config)
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"}, channel="voice")
    await deliver_outbox(dealer_a.id)
    detail = await channels.get_message(dealer_a.id, message.id)
    response = await callback(client, dealer_a, twilio_config,
                              {"CallSid": detail.provider_id, "CallStatus": "no-answer"},
                              channel="twilio_voice")
    assert response.status_code == 200
    assert (await channels.get_message(dealer_a.id, message.id)).status == "failed"


async def test_a_callback_that_overtakes_the_send_record(client, dealer_a, twilio_api,
                                                         twilio_config) -> None:
    import asyncio

    from dealerhub.channels.messages.tables import ChannelOutbox

    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    twilio_api.delay = 1.5
    try:
        sending = asyncio.create_task(deliver_outbox(dealer_a.id))
        for _ in range(100):
            if any(r.headers.get("I-Twilio-Idempotency-Token") == str(message.id)
                   for r in twilio_api.requests):
                break
            await asyncio.sleep(0.05)
        request = next(r for r in twilio_api.requests
                       if r.headers.get("I-Twilio-Idempotency-Token") == str(message.id))
        callback_url = request.form["StatusCallback"]
        assert callback_url.endswith(f"?message_id={message.id}")
        path = callback_url.split("://", 1)[1].split("/", 1)[1]
        body, headers = signed(twilio_config, "/" + path,
                               {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"})
        early = await client.post("/" + path, content=body, headers=headers)
        assert early.status_code == 200
        assert (await channels.get_message(dealer_a.id, message.id)).status == "delivered"
        assert await sending == {"sent": 1}
    finally:
        twilio_api.delay = 0.0
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "delivered" and detail.provider_id.startswith("SM")
    assert detail.sent_at is not None
    row = await ChannelOutbox.select().where(ChannelOutbox.message_id == message.id).first()
    assert row["done_at"] is not None and row["provider_id"] == detail.provider_id
