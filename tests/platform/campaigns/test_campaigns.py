"""Dealer campaigns: consent-eligible recipients, hold-out, two-step contact then a nudge,
and attribution of replies, bookings and visits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.channels.service import list_messages
from dealerhub.platform import events
from dealerhub.platform.campaigns.campaigns import service
from dealerhub.platform.campaigns.campaigns.schemas import CampaignCreate, MessageText
from dealerhub.platform.campaigns.campaigns.tables import CampaignRecipient
from dealerhub.platform.campaigns.segments import service as segments
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.service import record_consent
from dealerhub.tenants.fields import InvalidInput
from tests.platform.campaigns.conftest import vehicle_with

pytestmark = pytest.mark.anyio
START = datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, outside quiet hours
TEXTS = {"zh-CN": MessageText("{{ customer_name }}您好，春季保养优惠。"),
         "en": MessageText("Hello {{ customer_name }}, spring service offer.")}


async def _audience(tenant_id, consenting: int, silent: int = 0) -> uuid.UUID:
    for index in range(consenting + silent):
        customer, _ = await vehicle_with(tenant_id, {"city": "杭州"}, model_code="A6")
        if index < consenting:
            await record_consent(tenant_id, customer.id, "marketing", "sms", True, "test")
    segment = await segments.save_segment(tenant_id, "A6 杭州", {"rules": [
        {"field": "model", "op": "in", "values": ["A6"]}]})
    return segment.id


def _campaign(segment_id, **fields) -> CampaignCreate:
    values = {"name": "春季保养", "texts": TEXTS, "starts_at": START, "segment_id": segment_id,
              "second_contact_after_days": 3, "nudge_after_days": 2} | fields
    return CampaignCreate(**values)


async def _recipients(tenant_id, campaign_id) -> list[CampaignRecipient]:
    rows, _ = await service.list_recipients(tenant_id, campaign_id, per_page=1000)
    return rows


async def test_only_consenting_customers_and_none_is_an_error(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=2, silent=3)
    campaign = await service.create_campaign(dealer_a.id, _campaign(segment_id), now=START)
    assert campaign.recipients == 2
    other = await segments.save_segment(dealer_a.id, "nobody", {"rules": [
        {"field": "model", "op": "in", "values": ["Z9"]}]})
    with pytest.raises(InvalidInput) as refused:
        await service.create_campaign(dealer_a.id, _campaign(other.id), now=START)
    assert refused.value.errors[0].field == "segment_id"
    _, total = await service.list_campaigns(dealer_a.id)
    assert total == 1  # the refused one left nothing behind


async def test_schedule_in_the_past_and_bad_texts_are_refused(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=1)
    with pytest.raises(InvalidInput) as past:
        await service.create_campaign(dealer_a.id, _campaign(segment_id),
                                      now=START + timedelta(hours=1))
    assert past.value.errors[0].field == "starts_at"
    with pytest.raises(InvalidInput) as texts:
        await service.create_campaign(dealer_a.id, _campaign(
            segment_id, texts={"fr": MessageText("Bonjour")}), now=START)
    assert texts.value.errors[0].field == "texts"
    with pytest.raises(InvalidInput) as both:
        await service.create_campaign(dealer_a.id, _campaign(
            segment_id, due_reason="lapsed"), now=START)
    assert both.value.errors[0].field == "segment_id"


async def test_two_step_contact_then_nudge_and_a_reply_stops_it(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=2)
    campaign = await service.create_campaign(dealer_a.id, _campaign(segment_id), now=START)
    assert await service.advance_campaigns(dealer_a.id, START - timedelta(minutes=1)) == 0
    assert await service.advance_campaigns(dealer_a.id, START) == 2
    answering, silent = await _recipients(dealer_a.id, campaign.id)
    assert {answering.step, silent.step} == {1}
    # a second run the same day sends nothing more
    assert await service.advance_campaigns(dealer_a.id, START + timedelta(days=2)) == 0
    async with tenant_scope(dealer_a.id):
        await service.on_replied(events.Event(
            uuid.uuid4(), "message.replied", dealer_a.id,
            {"related": {"campaign_recipient_id": str(answering.id)}},
            START + timedelta(days=1)))
    assert await service.advance_campaigns(dealer_a.id, START + timedelta(days=3)) == 1
    assert await service.advance_campaigns(dealer_a.id, START + timedelta(days=5)) == 1
    assert await service.advance_campaigns(dealer_a.id, START + timedelta(days=30)) == 0
    by_id = {r.id: r for r in await _recipients(dealer_a.id, campaign.id)}
    assert by_id[answering.id].step == 1 and by_id[answering.id].status == "replied"
    assert by_id[silent.id].step == 3
    sent = await list_messages(dealer_a.id, customer_id=silent.customer_id)
    assert sorted(m.template_key for m in sent) == sorted(
        [service.template_key(campaign.id)] * 2 + [service.NUDGE_TEMPLATE])
    assert all(m.related["campaign_recipient_id"] == str(silent.id) for m in sent)


async def test_hold_out_never_contacted_and_conversion_compared(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=40)
    campaign = await service.create_campaign(
        dealer_a.id, _campaign(segment_id, hold_out_percent=50), now=START)
    recipients = await _recipients(dealer_a.id, campaign.id)
    held = [r for r in recipients if r.hold_out]
    assert 5 <= len(held) <= 35
    await service.advance_campaigns(dealer_a.id, START)
    for recipient in held:
        assert await list_messages(dealer_a.id, customer_id=recipient.customer_id) == []
    contacted = next(r for r in recipients if not r.hold_out)
    async with tenant_scope(dealer_a.id):
        for recipient in (contacted, held[0]):
            await service.on_booked(events.Event(
                uuid.uuid4(), "appointment.booked", dealer_a.id,
                {"customer_id": str(recipient.customer_id), "appointment_id": str(uuid.uuid4()),
                 "booked_at": (START + timedelta(days=2)).isoformat()},
                START + timedelta(days=2)))
            await service.on_visit(events.Event(
                uuid.uuid4(), "repair_order.closed", dealer_a.id,
                {"customer_id": str(recipient.customer_id), "total_amount": 880.0,
                 "opened_at": (START + timedelta(days=5)).isoformat()},
                START + timedelta(days=5)))
    found = await service.results(dealer_a.id, campaign.id)
    assert found.treatment.booked == 1 and found.treatment.visited == 1
    assert found.treatment.revenue == 880
    assert found.hold_out.booked == 1 and found.hold_out.contacted == 0
    assert found.booking_lift == pytest.approx(
        1 / found.treatment.recipients - 1 / found.hold_out.recipients)
    assert set(found.by_variant) == {"zh-CN:"}


async def test_booking_outside_the_window_is_not_credited(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=1)
    campaign = await service.create_campaign(dealer_a.id, _campaign(
        segment_id, booking_window_days=7), now=START)
    await service.advance_campaigns(dealer_a.id, START)
    (recipient,) = await _recipients(dealer_a.id, campaign.id)
    async with tenant_scope(dealer_a.id):
        await service.on_booked(events.Event(
            uuid.uuid4(), "appointment.booked", dealer_a.id,
            {"customer_id": str(recipient.customer_id), "appointment_id": str(uuid.uuid4())},
            START + timedelta(days=8)))
    assert (await service.results(dealer_a.id, campaign.id)).treatment.booked == 0


async def test_cs_response_recorded_with_reason(dealer_a):
    segment_id = await _audience(dealer_a.id, consenting=1)
    campaign = await service.create_campaign(dealer_a.id, _campaign(segment_id), now=START)
    (recipient,) = await _recipients(dealer_a.id, campaign.id)
    with pytest.raises(InvalidInput) as refused:
        await service.record_response(dealer_a.id, campaign.id, recipient.id, "declined")
    assert refused.value.errors[0].field == "reason"
    row = await service.record_response(dealer_a.id, campaign.id, recipient.id, "declined",
                                        "too expensive")
    assert row.status == "declined" and row.response_reason == "too expensive"
    assert await service.advance_campaigns(dealer_a.id, START) == 0


async def test_due_list_campaign(dealer_a):
    from datetime import date

    from dealerhub.platform.campaigns.due_lists.service import generate_due_lists

    customer, _ = await vehicle_with(dealer_a.id, purchase_date=date.today() - timedelta(90))
    await record_consent(dealer_a.id, customer.id, "service", "sms", True, "test")
    await generate_due_lists(dealer_a.id)
    campaign = await service.create_campaign(dealer_a.id, _campaign(
        None, due_reason="first_maintenance", purpose="service"), now=START)
    assert campaign.recipients == 1


async def test_frequency_cap_defers_to_the_next_day(dealer_a):
    from dealerhub.channels.service import enqueue_message

    segment_id = await _audience(dealer_a.id, consenting=1)
    campaign = await service.create_campaign(dealer_a.id, _campaign(segment_id), now=START)
    (recipient,) = await _recipients(dealer_a.id, campaign.id)
    for number in range(3):  # the pipeline's weekly marketing cap is already used up
        await enqueue_message(dealer_a.id, recipient.customer_id, "marketing",
                              service.NUDGE_TEMPLATE, {"booking_url": "x"},
                              idempotency_key=f"cap-{number}", now=START - timedelta(hours=1))
    assert await service.advance_campaigns(dealer_a.id, START) == 1
    (deferred,) = await _recipients(dealer_a.id, campaign.id)
    assert deferred.step == 0 and deferred.status == "pending"
    assert deferred.next_step_at == START + timedelta(days=1)


async def test_quiet_hours_hold_the_message_until_morning(dealer_a):
    late = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    segment_id = await _audience(dealer_a.id, consenting=1)
    campaign = await service.create_campaign(dealer_a.id, _campaign(
        segment_id, starts_at=late), now=late)
    await service.advance_campaigns(dealer_a.id, late)
    (recipient,) = await _recipients(dealer_a.id, campaign.id)
    (message,) = await list_messages(dealer_a.id, customer_id=recipient.customer_id)
    assert message.not_before == datetime(2030, 3, 5, 0, 0, tzinfo=UTC)  # 08:00 local
