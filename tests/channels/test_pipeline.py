"""The send decision: consent per purpose, preferred channel and fallbacks, quiet hours in
the dealer's time zone, the weekly cap, templates per language and type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.credentials.service import Account
from dealerhub.channels.messages import pipeline
from dealerhub.channels.messages.tables import ChannelOutbox, Message
from dealerhub.platform.tenancy import tenant_scope
from tests.channels.conftest import MARKETING, SERVICE, new_customer

pytestmark = pytest.mark.anyio


@dataclass
class Profile:
    phone_e164: str | None = "+8613800000001"
    email: str | None = "a@example.com"
    wechat_id: str | None = None
    preferred_channel: str | None = None
    consents: dict = field(default_factory=dict)
    erased: bool = False


SMS = Account("twilio_sms", "dealer", "", {})
MAIL = Account("ses_email", "oem", "", {})
NOON_SHANGHAI = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def decide(profile: Profile, purpose: str = "service", **kwargs) -> pipeline.Decision:
    args = {"requested": None, "accounts": {"sms": [SMS], "email": [MAIL]},
            "now": NOON_SHANGHAI, "not_before": None, "time_zone": "Asia/Shanghai",
            "sent_this_week": 0, **kwargs}
    return pipeline.decide(purpose=purpose, profile=profile, **args)


def test_opt_out_on_one_channel_stops_the_purpose_everywhere() -> None:
    decision = decide(Profile(consents={"marketing": {"email": True, "sms": False}}), "marketing")
    assert (decision.status, decision.reason) == ("suppressed", "no consent")


def test_marketing_needs_an_opt_in_service_does_not() -> None:
    assert decide(Profile(), "marketing").reason == "no consent"
    assert decide(Profile(), "service").status == "queued"
    assert decide(Profile(consents={"service": {"sms": False}}), "service").reason == "no consent"


def test_preferred_channel_first_then_fallbacks_with_an_address() -> None:
    routes = decide(Profile(preferred_channel="email")).routes
    assert [(r.medium, r.channel) for r in routes] == [("email", "ses_email"),
                                                       ("sms", "twilio_sms")]
    routes = decide(Profile(email=None, preferred_channel="email")).routes
    assert [r.medium for r in routes] == ["sms"]


def test_console_stands_in_only_when_nothing_is_configured() -> None:
    routes = decide(Profile(preferred_channel="email"), accounts={}).routes
    assert [(r.medium, r.channel) for r in routes] == [("email", "console")]
    assert decide(Profile(phone_e164=None, email=None)).reason == "no reachable channel"


def test_quiet_hours_defer_marketing_to_eight_local_but_not_service() -> None:
    late = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30 Shanghai
    consent = {"marketing": {"sms": True}}
    decision = decide(Profile(consents=consent), "marketing", now=late)
    assert (decision.status, decision.reason) == ("queued", "quiet hours → deferred")
    assert decision.not_before == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 next day
    early = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)  # 07:59 Shanghai
    assert decide(Profile(consents=consent), "marketing", now=early).not_before == \
        datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert decide(Profile(), "service", now=late).not_before == late
    at_eight = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert decide(Profile(consents=consent), "marketing", now=at_eight).reason == ""


def test_quiet_hours_follow_the_dealers_time_zone() -> None:
    at = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30 Shanghai, 20:30 Urumqi
    consent = {"marketing": {"sms": True}}
    assert decide(Profile(consents=consent), "marketing", now=at,
                  time_zone="Asia/Urumqi").reason == ""


def test_weekly_cap_applies_to_marketing() -> None:
    consent = {"marketing": {"sms": True}}
    assert decide(Profile(consents=consent), "marketing",
                  sent_this_week=pipeline.MARKETING_PER_WEEK).reason == "frequency cap"
    assert decide(Profile(), "service", sent_this_week=10).status == "queued"


async def test_enqueue_renders_by_language_and_customer_type(dealer_a) -> None:
    zh = await new_customer(dealer_a.id)
    en_value = await new_customer(dealer_a.id, locale="en", customer_type="value")
    first = await channels.enqueue_message(dealer_a.id, zh, "service", SERVICE,
                                           {"vehicle": "星途 TXL"})
    second = await channels.enqueue_message(dealer_a.id, en_value, "service", SERVICE,
                                            {"vehicle": "TXL"})
    detail_zh = await channels.get_message(dealer_a.id, first.id)
    detail_en = await channels.get_message(dealer_a.id, second.id)
    assert detail_zh.body == "王伟您好，您的星途 TXL该保养了。" and detail_zh.status == "queued"
    assert detail_en.body == "Hello 王伟, save on your TXL." and detail_en.locale == "en"
    assert detail_zh.channel == "console" and detail_zh.timeline[0].status == "queued"


async def test_missing_variable_names_it_and_writes_nothing(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    with pytest.raises(channels.TemplateVariableMissing, match="vehicle"):
        await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE, {})
    assert await channels.list_messages(dealer_a.id, customer_id=customer) == []


async def test_unknown_customer_or_template_is_refused(dealer_a, dealer_b) -> None:
    other = await new_customer(dealer_b.id)
    with pytest.raises(channels.MessageRejected) as refused:
        await channels.enqueue_message(dealer_a.id, other, "service", SERVICE, {"vehicle": "x"})
    assert refused.value.field == "customer_id"
    mine = await new_customer(dealer_a.id)
    with pytest.raises(channels.MessageRejected) as refused:
        await channels.enqueue_message(dealer_a.id, mine, "service", "nope", {})
    assert refused.value.field == "template_key"


async def test_suppressed_messages_are_recorded_with_the_reason(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    message = await channels.enqueue_message(dealer_a.id, customer, "marketing", MARKETING,
                                             {"vehicle": "TXL"})
    assert (message.status, message.reason) == ("suppressed", "no consent")
    async with tenant_scope(dealer_a.id, write=False):
        assert not await ChannelOutbox.exists().where(ChannelOutbox.message_id == message.id)


async def test_frequency_cap_counts_this_weeks_marketing(dealer_a) -> None:
    customer = await new_customer(dealer_a.id, consents={"marketing": {"sms": True}})
    noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    statuses = []
    for day in range(pipeline.MARKETING_PER_WEEK + 1):
        message = await channels.enqueue_message(dealer_a.id, customer, "marketing", MARKETING,
                                                 {"vehicle": "TXL"},
                                                 now=noon + timedelta(hours=day))
        statuses.append(message.reason)
    assert statuses[-1] == "frequency cap" and "frequency cap" not in statuses[:-1]


async def test_idempotency_key_returns_the_first_message(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    first = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                           {"vehicle": "x"}, idempotency_key="appt-1:72h")
    again = await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                           {"vehicle": "x"}, idempotency_key="appt-1:72h")
    assert first.id == again.id
    assert len(await channels.list_messages(dealer_a.id, customer_id=customer)) == 1


async def test_enqueue_joins_the_callers_transaction(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    with pytest.raises(RuntimeError):
        async with tenant_scope(dealer_a.id):
            await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                           {"vehicle": "x"}, related={"appointment_id": "a1"})
            raise RuntimeError("the caller's change failed")
    async with tenant_scope(dealer_a.id, write=False):
        assert await Message.count_in_tenant().where(Message.customer_id == customer) == 0


async def test_a_batch_decides_each_customer_as_one_would(dealer_a) -> None:
    """enqueue_messages: the same rules set-based: consent per customer, the cap counting
    the batch's own messages, a repeated key answered with the first, order kept."""
    opted_in = await new_customer(dealer_a.id, consents={"marketing": {"sms": True}})
    silent = await new_customer(dealer_a.id)
    noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    requests = [channels.MessageRequest(opted_in, {"vehicle": "TXL"}, f"k{n}")
                for n in range(pipeline.MARKETING_PER_WEEK + 1)]
    requests += [channels.MessageRequest(silent, {"vehicle": "TXL"}),
                 channels.MessageRequest(opted_in, {"vehicle": "TXL"}, "k0")]
    sent = await channels.enqueue_messages(dealer_a.id, "marketing", MARKETING, requests,
                                           now=noon)
    reasons = [m.reason for m in sent]
    assert reasons == [""] * pipeline.MARKETING_PER_WEEK + ["frequency cap", "no consent", ""]
    assert sent[-1].id == sent[0].id and sent[1].id != sent[0].id
    async with tenant_scope(dealer_a.id, write=False):
        outbox = await ChannelOutbox.count().where(
            ChannelOutbox.message_id.is_in([m.id for m in sent]))
    assert outbox == pipeline.MARKETING_PER_WEEK


async def test_a_batch_with_an_unknown_customer_writes_nothing(dealer_a, dealer_b) -> None:
    mine, theirs = await new_customer(dealer_a.id), await new_customer(dealer_b.id)
    with pytest.raises(channels.MessageRejected) as error:
        await channels.enqueue_messages(dealer_a.id, "service", SERVICE, [
            channels.MessageRequest(mine, {"vehicle": "x"}),
            channels.MessageRequest(theirs, {"vehicle": "x"})])
    assert error.value.field == "customer_id"
    assert await channels.list_messages(dealer_a.id, customer_id=mine) == []
