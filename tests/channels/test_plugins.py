"""The plugin API: a third-party package declaring the `dealerhub.channels` entry point
(tests/channels/plugin_pkg, installed into the test environment) shows in the dealer's
channel settings and carries messages, with no change to dealerhub."""

from __future__ import annotations

import hashlib
import hmac
import json

import dealerhub_pigeon
import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.credentials import crypto
from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.credentials.tables import ChannelAccount
from dealerhub.channels.plugin import discovered
from dealerhub.platform.config import get_settings
from dealerhub.platform.directory import for_every_dealer
from dealerhub.platform.tenancy import tenant_scope
from tests.channels.conftest import SERVICE, deliver_outbox, new_customer, save_account
from tests.conftest import bearer_for, login_page_session

pytestmark = pytest.mark.anyio


def test_the_third_party_plugin_is_discovered() -> None:
    found = discovered()
    assert found["carrier_pigeon"] is dealerhub_pigeon.PigeonChannel
    assert {"console", "twilio_sms", "twilio_voice", "twilio_whatsapp", "ses_email", "wecom",
            "webhook"} <= set(found)


async def test_it_appears_in_the_channel_settings(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    plugins = (await client.get("/api/v1/channels/plugins", headers=headers)).json()
    pigeon = next(p for p in plugins if p["name"] == "carrier_pigeon")
    assert pigeon["built_in"] is False and pigeon["label"] == "信鸽"
    assert [f["name"] for f in pigeon["fields"]] == ["loft", "ring_key"]
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    page = await client.get("/channels", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "carrier_pigeon" in page.text


async def test_it_carries_messages_and_its_callbacks(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    saved = await client.put("/api/v1/channels/accounts", headers=headers, json={
        "channel": "carrier_pigeon", "sender": "Loft 7",
        "settings": {"loft": "Shanghai", "ring_key": "s3cret"}})
    assert saved.status_code == 200 and saved.json()["configured_fields"] == ["loft", "ring_key"]
    assert "s3cret" not in saved.text
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    assert await deliver_outbox(dealer_a.id) == {"sent": 1}, await channels.get_message(
        dealer_a.id, message.id)
    assert dealerhub_pigeon.FLOWN[-1].message_id == str(message.id)
    assert dealerhub_pigeon.FLOWN[-1].sender == "Loft 7"
    detail = await channels.get_message(dealer_a.id, message.id)
    body = json.dumps({"id": detail.provider_id, "status": "delivered"}).encode()
    ring = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    path = f"/hooks/channels/carrier_pigeon/{dealer_a.id}"
    assert (await client.post(path, content=body)).status_code == 401
    assert (await client.post(path, content=body,
                              headers={"X-Pigeon-Signature": ring})).status_code == 200
    assert (await channels.get_message(dealer_a.id, message.id)).status == "delivered"


async def test_account_settings_are_checked_and_encrypted(client, dealer_a) -> None:
    from dealerhub.channels.credentials.tables import ChannelAccount
    from dealerhub.platform.tenancy import tenant_scope

    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    unknown = await client.put("/api/v1/channels/accounts", headers=headers,
                               json={"channel": "carrier_pigeon", "settings": {"wings": "2"}})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["key"] == "settings.wings"
    missing = await client.put("/api/v1/channels/accounts", headers=headers,
                               json={"channel": "twilio_sms", "settings": {"account_sid": "AC1"}})
    assert missing.status_code == 400 and "auth_token" in missing.json()["errors"][0]["key"]
    nothing = await client.put("/api/v1/channels/accounts", headers=headers,
                               json={"channel": "fax", "settings": {}})
    assert nothing.status_code == 400 and nothing.json()["errors"][0]["key"] == "channel"
    await save_account(dealer_a.id, "carrier_pigeon", {"loft": "L", "ring_key": "plain-secret"})
    await save_account(dealer_a.id, "carrier_pigeon", {"loft": "M", "ring_key": ""})  # keep it
    async with tenant_scope(dealer_a.id, write=False):
        row = await ChannelAccount.objects_in_tenant().where(
            ChannelAccount.channel == "carrier_pigeon").first()
    assert "plain-secret" not in row.secret_config
    from dealerhub.channels.credentials import crypto

    assert crypto.decrypt(row.secret_config) == {"loft": "M", "ring_key": "plain-secret"}
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    assert (await client.get("/api/v1/channels/plugins", headers=advisor)).status_code == 403


def test_key_rotation_reads_old_tokens(monkeypatch) -> None:
    from dealerhub.channels.credentials import crypto

    old = crypto._cipher("o" * 40).encrypt(b'{"a": 1}').decode()
    monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher("n" * 40 + "," + "o" * 40))
    assert crypto.decrypt(old) == {"a": 1}
    rotated = crypto.rotate(old)
    monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher("n" * 40))
    assert crypto.decrypt(rotated) == {"a": 1}
    with pytest.raises(ValueError, match="CHANNEL_KEY"):
        crypto.decrypt(old)


async def test_rotating_every_dealer_leaves_no_account_on_the_old_key(dealer_a, dealer_b,
                                                                      monkeypatch) -> None:
    """`dealerhub rotate-channel-keys`: after a new key is put first in CHANNEL_KEY, every
    dealer's accounts are re-encrypted, so the old key can then be removed."""
    old, new = "o" * 40, "n" * 40
    others = get_settings().channel_key  # other tests' dealers' accounts use it
    monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher(old))
    await save_account(dealer_a.id, "webhook", {"url": "https://a.example/hook",
                                                "secret": "s" * 32})
    await save_account(dealer_b.id, "webhook", {"url": "https://b.example/hook",
                                                "secret": "t" * 32})
    monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher(f"{new},{old},{others}"))
    said: dict[str, int] = {}
    total = await for_every_dealer(credentials.rotate_keys,
                                   lambda code, n: said.update({code: n}))
    try:
        assert said[dealer_a.code] == said[dealer_b.code] == 1 and total == sum(said.values())
        monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher(new))
        for dealer, url in ((dealer_a, "https://a.example/hook"),
                            (dealer_b, "https://b.example/hook")):
            async with tenant_scope(dealer.id):
                (row,) = await ChannelAccount.objects_in_tenant()
            assert crypto.decrypt(row.secret_config)["url"] == url
    finally:  # every other dealer's accounts back on the key the rest of the run uses
        monkeypatch.setattr(crypto, "cipher", lambda: crypto._cipher(f"{others},{new}"))
        await for_every_dealer(credentials.rotate_keys, lambda code, n: None)
