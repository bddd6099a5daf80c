"""The events scoring reads, emitted by their real sources: act through the service, let
the relay and the worker deliver, and read the dealer's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform import events
from dealerhub.platform.appointments import service as appointments
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.campaigns.campaigns import service as campaigns
from dealerhub.platform.scoring.tables import NO_STAFF, MetricFact
from dealerhub.tenants.vehicles.service import get_vehicle
from tests.platform.appointments.conftest import build_shop, future_day
from tests.platform.campaigns.test_campaigns import _audience, _campaign, _recipients
from tests.tenants.factories import visit

pytestmark = pytest.mark.anyio


async def settle(worker) -> None:
    """Relay and deliver until no consumer emits anything new (consumers emit events too)."""
    while await events.relay_once():
        worker.drain(timeout_ms=120_000)
    worker.drain(timeout_ms=120_000)


async def totals(dealer_id, metric_key: str) -> tuple[float, float]:
    """The dealer's (numerator, denominator) of a metric over all days."""
    rows = await MetricFact.select(MetricFact.numerator, MetricFact.denominator).where(
        (MetricFact.dealer_id == dealer_id) & (MetricFact.metric_key == metric_key)
        & (MetricFact.staff_id == NO_STAFF))
    return (sum(r["numerator"] for r in rows), sum(r["denominator"] for r in rows))


async def test_bookings_carry_the_request_channel_and_reminders_are_counted(
        database, jobs_worker, quiet_outbox) -> None:
    shop = await build_shop()
    now = datetime.now(UTC)
    asked = now - timedelta(minutes=45)  # answered 45 min later: SMS in time, e-mail late
    booked = []
    for hour, channel in ((9, "sms"), (11, "email")):
        booked.append((await appointments.book(shop.tenant_id, AppointmentCreate(
            vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(6), hour),
            job_codes=["OIL"], request_channel=channel, request_received_at=asked,
            first_response_at=now), channel="portal", actor="t")).appointment)
    assert [b.request_channel for b in booked] == ["sms", "email"]
    portal = (await appointments.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(6), 14),
        job_codes=["OIL"]), channel="portal", actor="t")).appointment
    assert portal.request_channel == "phone"  # an advisor taking a call
    # the 72 h reminders of the first two fall due; the third's is not due yet
    await appointments.claim_due_reminders(now=booked[1].starts_at - timedelta(hours=71))
    await settle(jobs_worker)
    assert await totals(shop.tenant_id, "response_sla") == (2.0, 3.0)
    assert await totals(shop.tenant_id, "reminder_72h") == (2.0, 3.0)
    assert await totals(shop.tenant_id, "reminder_24h") == (0.0, 3.0)


async def test_campaign_targets_and_first_conversions_are_counted(
        dealer_a, jobs_worker, quiet_outbox) -> None:
    now = datetime.now(UTC)
    segment_id = await _audience(dealer_a.id, consenting=2)
    campaign = await campaigns.create_campaign(dealer_a.id, _campaign(
        segment_id, starts_at=now, hold_out_percent=0), now=now)
    await campaigns.advance_campaigns(dealer_a.id, now)
    first, _second = await _recipients(dealer_a.id, campaign.id)
    vehicle = await get_vehicle(dealer_a.id, first.vehicle_id)
    await visit(dealer_a.id, vehicle, now + timedelta(minutes=5), amount="800")
    await settle(jobs_worker)
    await visit(dealer_a.id, vehicle, now + timedelta(minutes=8), amount="300")
    await settle(jobs_worker)  # a second visit converts nobody new
    assert await totals(dealer_a.id, "campaign_conversion") == (1.0, 2.0)
