"""WeChat template messages and the generic outbound webhook channel, each over real HTTP
to a local server, with their signed callbacks."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from standardwebhooks.webhooks import Webhook

from dealerhub.channels import service as channels
from dealerhub.channels.providers.wecom import wechat_signature
from dealerhub.channels.webhooks import http
from tests.channels.conftest import SERVICE, deliver_outbox, new_customer, save_account
from tests.support.wechat_standin import WeChatStandIn, encrypt, new_encoding_aes_key

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def wechat():
    server = WeChatStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def wechat_config(wechat) -> dict[str, str]:
    app_id, secret = wechat.add_app()
    return {"app_id": app_id, "app_secret": secret, "template_id": "TPL-1",
            "callback_token": "cb-token", "api_base_url": wechat.url}


async def wechat_message(dealer, config, openid: str):
    await save_account(dealer.id, "wecom", config)
    customer = await new_customer(dealer.id, wechat_id=openid, preferred_channel="wechat")
    message = await channels.enqueue_message(dealer.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer.id)
    return await channels.get_message(dealer.id, message.id)


async def test_template_message_with_token_refresh(dealer_a, wechat, wechat_config) -> None:
    first = await wechat_message(dealer_a, wechat_config, "oOPENID-1")
    assert first.status == "sent" and first.provider_id.isdigit()
    assert wechat.sent[-1]["touser"] == "oOPENID-1"
    assert wechat.sent[-1]["data"]["content"]["value"].endswith("TXL该保养了。")
    wechat.expire_tokens()  # the cached token is refused once, then renewed
    second = await wechat_message(dealer_a, wechat_config, "oOPENID-2")
    assert second.status == "sent"


async def test_unfollowed_user_is_a_permanent_failure(dealer_a, wechat, wechat_config) -> None:
    wechat.blocked.add("oGONE")
    message = await wechat_message(dealer_a, wechat_config, "oGONE")
    assert message.status == "failed" and "43004" in message.reason


async def test_delivery_receipt_is_signed(client, dealer_a, wechat_config, wechat) -> None:
    message = await wechat_message(dealer_a, wechat_config, "oOPENID-3")
    xml = (f"<xml><ToUserName>gh_1</ToUserName><FromUserName>oOPENID-3</FromUserName>"
           f"<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event>"
           f"<MsgID>{message.provider_id}</MsgID><Status>success</Status></xml>").encode()
    stamp, nonce = str(int(time.time())), "n1"
    good = wechat_signature("cb-token", stamp, nonce)
    path = f"/hooks/channels/wecom/{dealer_a.id}"
    bad = await client.post(f"{path}?timestamp={stamp}&nonce={nonce}&signature=0", content=xml)
    assert bad.status_code == 401
    ok = await client.post(f"{path}?timestamp={stamp}&nonce={nonce}&signature={good}",
                           content=xml)
    assert ok.status_code == 200 and ok.text == "success"
    assert (await channels.get_message(dealer_a.id, message.id)).status == "delivered"


def _signed_query(*encrypted: str, token: str = "cb-token") -> str:
    stamp, nonce = str(int(time.time())), "n2"
    signature = wechat_signature(token, stamp, nonce, *encrypted)
    name = "msg_signature" if encrypted else "signature"
    return f"timestamp={stamp}&nonce={nonce}&{name}={signature}"


async def test_plain_url_check_echoes_echostr(client, dealer_a, wechat_config) -> None:
    await save_account(dealer_a.id, "wecom", wechat_config)
    path = f"/hooks/channels/wecom/{dealer_a.id}"
    ok = await client.get(f"{path}?{_signed_query()}&echostr=4921311")
    assert ok.status_code == 200 and ok.text == "4921311"
    bad = await client.get(f"{path}?{_signed_query(token='other')}&echostr=4921311")
    assert bad.status_code == 401 and "4921311" not in bad.text
    assert (await client.get(f"{path}?{_signed_query()}")).status_code == 401  # no echostr
    assert (await client.get("/hooks/channels/twilio_sms/"
                             f"{dealer_a.id}?echostr=1")).status_code == 404


async def test_encrypted_url_check_and_receipt(client, dealer_a, wechat_config, wechat) -> None:
    """WeCom / safe mode: msg_signature covers the ciphertext; the answer is the plaintext."""
    key = new_encoding_aes_key()
    config = {**wechat_config, "encoding_aes_key": key}
    path = f"/hooks/channels/wecom/{dealer_a.id}"
    echo = encrypt(key, "1616140317555161061", config["app_id"])
    await save_account(dealer_a.id, "wecom", config)
    ok = await client.get(f"{path}?{_signed_query(echo)}&echostr={quote(echo)}")
    assert ok.status_code == 200 and ok.text == "1616140317555161061"
    plain_signature = await client.get(f"{path}?{_signed_query()}&echostr={quote(echo)}"
                                       .replace("signature=", "msg_signature="))
    assert plain_signature.status_code == 401  # the ciphertext is not covered
    other = encrypt(key, "1616140317555161061", "wxsomeoneelse")
    assert (await client.get(f"{path}?{_signed_query(other)}&echostr={quote(other)}")
            ).status_code == 401
    wrong_key = encrypt(new_encoding_aes_key(), "1616140317555161061", config["app_id"])
    assert (await client.get(f"{path}?{_signed_query(wrong_key)}&echostr={quote(wrong_key)}")
            ).status_code == 401

    message = await wechat_message(dealer_a, config, "oOPENID-4")
    inner = (f"<xml><FromUserName>oOPENID-4</FromUserName><MsgType>event</MsgType>"
             f"<Event>TEMPLATESENDJOBFINISH</Event><MsgID>{message.provider_id}</MsgID>"
             f"<Status>success</Status></xml>")
    sealed = encrypt(key, inner, config["app_id"])
    body = f"<xml><ToUserName>gh_1</ToUserName><Encrypt>{sealed}</Encrypt></xml>".encode()
    assert (await client.post(f"{path}?{_signed_query('x')}", content=body)).status_code == 401
    ok = await client.post(f"{path}?{_signed_query(sealed)}", content=body)
    assert ok.status_code == 200
    assert (await channels.get_message(dealer_a.id, message.id)).status == "delivered"


async def test_webhook_channel_posts_signed_and_takes_callbacks(client, dealer_a,
                                                                receiver) -> None:
    secret = http.new_secret()
    await save_account(dealer_a.id, "webhook", {"url": receiver.url + "/gateway",
                                                 "secret": secret, "medium": "sms"})
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer_a.id)
    (request,) = receiver.for_path("/gateway")
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["data"]["id"] == str(message.id) and request.headers["webhook-id"] == \
        str(message.id)
    body = json.dumps({"type": "message.status", "data": {"id": str(message.id),
                                                           "status": "delivered"}})
    headers = http.signed_headers(secret, "msg_cb_1", body)
    path = f"/hooks/channels/webhook/{dealer_a.id}"
    assert (await client.post(path, content=body.encode())).status_code == 401
    assert (await client.post(path, content=body.encode(), headers=headers)).status_code == 200
    assert (await channels.get_message(dealer_a.id, message.id)).status == "delivered"


async def test_webhook_channel_gateway_errors(dealer_a, receiver) -> None:
    from tests.support.webhook_receiver import Answer

    await save_account(dealer_a.id, "webhook", {"url": receiver.url + "/gw",
                                                 "secret": http.new_secret()})
    receiver.answer("/gw", Answer(503, "later", {"Retry-After": "600"}), Answer(422, "bad"))
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    assert await deliver_outbox(dealer_a.id) == {"temporary": 1}
    detail = await channels.get_message(dealer_a.id, message.id)
    assert (detail.not_before - detail.created_at).total_seconds() >= 590
    assert await deliver_outbox(dealer_a.id, now=detail.not_before) == {"permanent": 1}
    assert (await channels.get_message(dealer_a.id, message.id)).status == "failed"
