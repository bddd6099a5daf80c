"""E-mail through SES with the real boto3 over HTTP to moto's server; bounces and
complaints through SNS, signed like SNS signs, verified with host and topic checks."""

from __future__ import annotations

import dataclasses
import email
import json
from email import policy

import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.credentials import service as credentials
from dealerhub.platform.config import get_settings
from tests.channels.conftest import MARKETING, SERVICE, deliver_outbox, new_customer, save_account
from tests.support.moto_server import CREDENTIALS, REGION
from tests.support.sns import SnsSigner, ses_bounce, ses_complaint, ses_delivery

pytestmark = pytest.mark.anyio
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-notices"
SENDER = "service@dealer-a.example"


@pytest.fixture
def ses_config(moto) -> dict[str, str]:
    moto.client("ses").verify_email_identity(EmailAddress=SENDER)
    return {"region": REGION, "access_key_id": CREDENTIALS["aws_access_key_id"],
            "secret_access_key": CREDENTIALS["aws_secret_access_key"], "from_address": SENDER,
            "sns_topic_arn": TOPIC, "endpoint_url": moto.url}


@pytest.fixture(scope="module")
def signer() -> SnsSigner:
    return SnsSigner()


def parsed(raw: str) -> email.message.EmailMessage:
    return email.message_from_string(raw, policy=policy.default)  # type: ignore[return-value]


async def sent_email(dealer, ses_config, purpose="marketing", template=MARKETING):
    await save_account(dealer.id, "ses_email", ses_config)
    customer = await new_customer(dealer.id, email=f"owner-{dealer.code.lower()}@example.com",
                                  preferred_channel="email",
                                  consents={"marketing": {"email": True}})
    message = await channels.enqueue_message(dealer.id, customer, purpose, template,
                                             {"vehicle": "星途 TXL"})
    await deliver_outbox(dealer.id, now=message.not_before)
    return customer, await channels.get_message(dealer.id, message.id)


async def test_html_and_text_with_list_unsubscribe(dealer_a, moto, ses_config) -> None:
    _, message = await sent_email(dealer_a, ses_config)
    assert message.status == "sent"
    raw = next(m for m in moto.sent_emails() if m["id"] == message.provider_id)
    mail = parsed(raw["raw_data"])
    assert mail["From"] == SENDER and mail["Subject"] == "会员活动"
    assert mail["List-Unsubscribe"].startswith("<http") and "/c/unsubscribe/" in \
        mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    kinds = {part.get_content_type(): part.get_content() for part in mail.walk()
             if not part.is_multipart()}
    assert "<b>星途 TXL</b>" in kinds["text/html"] and "星途 TXL车主专享活动" in kinds["text/plain"]


async def test_service_mail_has_no_unsubscribe_header(dealer_a, moto, ses_config) -> None:
    _, message = await sent_email(dealer_a, ses_config, "service", SERVICE)
    raw = next(m for m in moto.sent_emails() if m["id"] == message.provider_id)
    assert parsed(raw["raw_data"])["List-Unsubscribe"] is None


async def test_unsubscribe_link_withdraws_marketing(client, dealer_a, moto, ses_config) -> None:
    from dealerhub.tenants.customers import service as customers

    customer, message = await sent_email(dealer_a, ses_config)
    raw = next(m for m in moto.sent_emails() if m["id"] == message.provider_id)
    link = parsed(raw["raw_data"])["List-Unsubscribe"].strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert (await client.get("/" + path)).status_code == 200
    assert (await client.post("/" + path)).status_code == 200
    profile = await customers.contact_profile(dealer_a.id, customer)
    assert profile.consents["marketing"]["email"] is False
    assert (await client.get("/c/unsubscribe/forged")).status_code == 404


async def sns_post(client, dealer, document):
    return await client.post(f"/hooks/channels/ses_email/{dealer.id}",
                             content=json.dumps(document).encode(),
                             headers={"Content-Type": "text/plain; charset=UTF-8",
                                      "x-amz-sns-message-type": document.get("Type", "")})


async def test_bounce_and_out_of_order_delivery(client, dealer_a, ses_config, signer) -> None:
    _, message = await sent_email(dealer_a, ses_config)
    bounce = signer.notification(TOPIC, ses_bounce(message.provider_id))
    assert (await sns_post(client, dealer_a, bounce)).status_code == 200
    assert (await sns_post(client, dealer_a, bounce)).status_code == 200  # again
    late = signer.notification(TOPIC, ses_delivery(message.provider_id), version="2")
    assert (await sns_post(client, dealer_a, late)).status_code == 200
    detail = await channels.get_message(dealer_a.id, message.id)
    assert detail.status == "bounced" and detail.bounced_at and detail.delivered_at is None


async def test_complaint_withdraws_marketing(client, dealer_a, ses_config, signer) -> None:
    from dealerhub.tenants.customers import service as customers

    customer, message = await sent_email(dealer_a, ses_config)
    complaint = signer.notification(TOPIC, ses_complaint(message.provider_id))
    assert (await sns_post(client, dealer_a, complaint)).status_code == 200
    profile = await customers.contact_profile(dealer_a.id, customer)
    assert profile.consents["marketing"]["email"] is False


async def test_sns_signature_host_and_topic_are_checked(client, dealer_a, ses_config,
                                                        signer) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, message = await sent_email(dealer_a, ses_config)
    notice = ses_delivery(message.provider_id)
    other_topic = signer.notification("arn:aws:sns:us-east-1:999:other", notice)
    forged = signer.notification(TOPIC, notice, key=rsa.generate_private_key(65537, 2048))
    tampered = signer.notification(TOPIC, notice)
    tampered["Message"] = tampered["Message"].replace("Delivery", "Bounce")
    evil_host = SnsSigner("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem")
    wrong_host = evil_host.notification(TOPIC, notice)
    http_cert = SnsSigner("http://sns.us-east-1.amazonaws.com/cert.pem").notification(TOPIC, notice)
    unsigned = {k: v for k, v in signer.notification(TOPIC, notice).items() if k != "Signature"}
    for document in (other_topic, forged, tampered, wrong_host, http_cert, unsigned):
        assert (await sns_post(client, dealer_a, document)).status_code == 401
    not_json = await client.post(f"/hooks/channels/ses_email/{dealer_a.id}", content=b"{oops")
    assert not_json.status_code == 401
    assert (await channels.get_message(dealer_a.id, message.id)).status == "sent"


async def test_oem_shared_account_when_the_dealer_has_none(dealer_b, moto, ses_config,
                                                           monkeypatch) -> None:
    settings = dataclasses.replace(get_settings(),
                                   oem_channel_accounts={"ses_email": dict(ses_config)})
    monkeypatch.setattr(credentials, "get_settings", lambda: settings)
    customer = await new_customer(dealer_b.id, email="oem-route@example.com",
                                  preferred_channel="email")
    message = await channels.enqueue_message(dealer_b.id, customer, "service", SERVICE,
                                             {"vehicle": "TXL"})
    await deliver_outbox(dealer_b.id)
    detail = await channels.get_message(dealer_b.id, message.id)
    assert detail.channel == "ses_email" and detail.status == "sent"
    assert any(m["id"] == detail.provider_id for m in moto.sent_emails())


async def test_sns_subscription_is_confirmed_through_the_sns_api(client, dealer_a, moto,
                                                                 ses_config, signer) -> None:
    """A signed SubscriptionConfirmation is confirmed with ConfirmSubscription against moto's
    SNS; while SNS refuses (here: the topic does not exist yet) we answer 503 so SNS resends."""
    import secrets

    name = f"ses-notices-{secrets.token_hex(4)}"
    topic = f"arn:aws:sns:{REGION}:123456789012:{name}"
    await save_account(dealer_a.id, "ses_email", {**ses_config, "sns_topic_arn": topic})
    confirmation = signer.subscription_confirmation(topic, secrets.token_hex(32))
    assert (await sns_post(client, dealer_a, confirmation)).status_code == 503
    assert moto.client("sns").create_topic(Name=name)["TopicArn"] == topic
    assert (await sns_post(client, dealer_a, confirmation)).status_code == 200
    forged = dict(confirmation, Token="0" * 64)  # the signature covers the token
    assert (await sns_post(client, dealer_a, forged)).status_code == 401
    without_token = signer.signed({"Type": "SubscriptionConfirmation", "TopicArn": topic,
                                   "Message": "m", "SubscribeURL": "https://x", "Token": ""})
    assert (await sns_post(client, dealer_a, without_token)).status_code == 400
