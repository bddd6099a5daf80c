"""The contract other components code against: contact profile, consent, phone lookup,
timeline extension point."""

from __future__ import annotations

import uuid

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers import service
from dealerhub.tenants.customers.timeline import TimelineEntry, register_timeline_source, timeline
from dealerhub.tenants.fields import InvalidInput
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio


async def test_contact_profile_carries_consents_and_locale(dealer_a) -> None:
    customer = await new_customer(dealer_a.id, name="李娜", phone="138 0013 8000",
                                  email="Li.Na@Example.com", preferred_channel="wechat",
                                  customer_type="value", locale="en")
    await service.record_consent(dealer_a.id, customer.id, "service", "sms", True, "form")
    await service.record_consent(dealer_a.id, customer.id, "marketing", "email", False, "form")
    profile = await service.contact_profile(dealer_a.id, customer.id)
    assert profile is not None
    assert profile.phone_e164 == "+8613800138000"
    assert profile.email == "li.na@example.com"
    assert (profile.preferred_channel, profile.customer_type, profile.locale) == (
        "wechat", "value", "en")
    assert profile.consents == {"service": {"sms": True}, "marketing": {"email": False}}
    assert profile.erased is False


async def test_opt_out_on_one_channel_withdraws_the_purpose_everywhere(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    for channel in ("sms", "wechat"):
        await service.record_consent(dealer_a.id, customer.id, "marketing", channel, True, "form")
    await service.record_consent(dealer_a.id, customer.id, "service", "sms", True, "form")
    await service.withdraw_consent(dealer_a.id, customer.id, "marketing", "sms:STOP")
    profile = await service.contact_profile(dealer_a.id, customer.id)
    assert profile is not None
    assert set(profile.consents["marketing"]) >= {"sms", "wechat", "email", "voice"}
    assert not any(profile.consents["marketing"].values())
    assert profile.consents["service"] == {"sms": True}
    consents = await service.list_consents(dealer_a.id, customer.id)
    assert {c.source for c in consents if c.purpose == "marketing"} == {"sms:STOP"}


async def test_consent_refuses_unknown_purpose_or_channel(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    with pytest.raises(InvalidInput) as refused:
        await service.record_consent(dealer_a.id, customer.id, "spam", "fax", True, "x")
    assert {e.field for e in refused.value.errors} == {"purpose", "channel"}


async def test_contract_calls_nest_inside_an_open_scope_of_the_same_tenant(dealer_a) -> None:
    customer = await new_customer(dealer_a.id, phone="13900001111")
    async with tenant_scope(dealer_a.id):
        await service.record_consent(dealer_a.id, customer.id, "service", "sms", True, "x")
        ids = await service.find_customer_ids_by_phone(dealer_a.id, "+8613900001111")
        profile = await service.contact_profile(dealer_a.id, customer.id)
    assert ids == [customer.id]
    assert profile is not None and profile.consents["service"]["sms"] is True


async def test_find_by_phone_stays_in_the_tenant(dealer_a, dealer_b) -> None:
    mine = await new_customer(dealer_a.id, phone="13900002222")
    await new_customer(dealer_b.id, phone="13900002222")
    assert await service.find_customer_ids_by_phone(dealer_a.id, "+8613900002222") == [mine.id]
    assert await service.find_customer_ids_by_phone(dealer_a.id, "not a phone") == []
    assert await service.contact_profile(dealer_b.id, mine.id) is None


async def test_timeline_merges_sources_newest_first(dealer_a) -> None:
    customer = await new_customer(dealer_a.id)
    vehicle = await new_vehicle(dealer_a.id, customer.id)
    await visit(dealer_a.id, vehicle, utc(2025, 3, 1))

    async def messages(tenant_id: uuid.UUID, customer_id: uuid.UUID, limit: int):
        if customer_id != customer.id:
            return []
        return [TimelineEntry(utc(2025, 4, 1), "message", "Reminder sent"),
                TimelineEntry(utc(2025, 1, 1), "message", "Welcome")]

    register_timeline_source("test-messages", messages)
    entries = await timeline(dealer_a.id, customer.id)
    assert [e.kind for e in entries] == ["message", "visit", "message"]
    assert entries[1].status == "closed"
    assert len(await timeline(dealer_a.id, customer.id, limit=2)) == 2
