"""Fixtures for the channels tests: provider stand-ins, customers, templates, the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.messages import lifecycle
from tests.support.moto_server import MotoServer
from tests.support.twilio_standin import TwilioStandIn
from tests.support.webhook_receiver import WebhookReceiver

SERVICE = "test.service_reminder"
MARKETING = "test.marketing_offer"

channels.register_template(SERVICE, "service", {
    "zh-CN": channels.TemplateText("保养提醒",
                                   "{{ customer_name }}您好，您的{{ vehicle }}该保养了。"),
    "en": channels.TemplateText("Service reminder",
                                "Hello {{ customer_name }}, your {{ vehicle }} is due."),
    "en:value": channels.TemplateText("Service offer",
                                      "Hello {{ customer_name }}, save on your {{ vehicle }}."),
})
channels.register_template(MARKETING, "marketing", {
    "zh-CN": channels.TemplateText("会员活动", "{{ customer_name }}，{{ vehicle }}车主专享活动",
                                   "<p>{{ customer_name }}，<b>{{ vehicle }}</b>车主专享</p>"),
    "en": channels.TemplateText("Owners' day", "{{ customer_name }}, an offer for {{ vehicle }}",
                                "<p>{{ customer_name }}, <b>{{ vehicle }}</b> owners</p>"),
})


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[TwilioStandIn]:
    server = TwilioStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def twilio_config(twilio_api: TwilioStandIn) -> dict[str, str]:
    sid, token = twilio_api.add_account()
    return {"account_sid": sid, "auth_token": token, "from_number": "+8610690000",
            "api_base_url": twilio_api.url}


_phones = iter(range(10_000_000, 99_999_999))


def new_phone() -> str:
    return f"+86138{next(_phones):08d}"


async def new_customer(dealer_id: uuid.UUID, *, consents: dict[str, dict[str, bool]] | None = None,
                       **fields: Any) -> uuid.UUID:
    from dealerhub.tenants.customers import service as customers
    from dealerhub.tenants.customers.schemas import CustomerCreate

    values = {"name": "王伟", "phone": new_phone(), "locale": "zh-CN", **fields}
    row = await customers.create_customer(dealer_id, CustomerCreate(**values))
    for purpose, by_channel in (consents or {}).items():
        for channel, granted in by_channel.items():
            await customers.record_consent(dealer_id, row.id, purpose, channel, granted, "test")
    return row.id


async def deliver_outbox(tenant_id: uuid.UUID, now: datetime | None = None) -> dict[str, int]:
    """Run the dispatcher and, for this dealer's jobs, the send job, in this event loop."""
    jobs: list[tuple[str, list[str]]] = []
    await lifecycle.dispatch_due(lambda t, ids: jobs.append((t, ids)), now=now)
    counts: dict[str, int] = {}
    for tenant, ids in jobs:
        if tenant == str(tenant_id):
            for outcome, n in (await lifecycle.send_batch(tenant, ids, now=now)).items():
                counts[outcome] = counts.get(outcome, 0) + n
    return counts


async def save_account(dealer_id: uuid.UUID, channel: str, config: dict[str, str],
                       sender: str = "", enabled: bool = True) -> None:
    from dealerhub.channels.credentials import service as credentials

    await credentials.save_account(dealer_id, channel, enabled=enabled, sender=sender,
                                   settings=config)


async def outbox_events(event_type: str, message_id: uuid.UUID | None = None) -> list[dict]:
    from dealerhub.platform.tables import EventOutbox

    rows = await EventOutbox.select(EventOutbox.payload).where(
        EventOutbox.event_type == event_type)
    payloads = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
                for r in rows]
    if message_id is not None:
        payloads = [p for p in payloads if p.get("message_id") == str(message_id)]
    return payloads
