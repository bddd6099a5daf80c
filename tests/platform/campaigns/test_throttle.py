"""Capacity throttling: invitations per day limited to what the free workshop capacity
ahead can absorb, quietest day suggested first."""

from __future__ import annotations

from datetime import date

import pytest

from dealerhub.platform.appointments import service as appointments
from dealerhub.platform.campaigns.campaigns import service
from tests.platform.campaigns.test_campaigns import START, _audience, _campaign, _recipients

pytestmark = pytest.mark.anyio


def test_quota_and_slackest_day():
    free = {date(2030, 3, 5): 120, date(2030, 3, 6): 480, date(2030, 3, 7): 0}
    assert service.daily_quota(free, 60, outstanding=0) == 10
    assert service.daily_quota(free, 60, outstanding=8) == 2
    assert service.daily_quota(free, 60, outstanding=20) == 0
    assert service.slackest_day(free) == date(2030, 3, 6)
    assert service.slackest_day({date(2030, 3, 7): 0}) is None


async def test_throttled_campaign_sends_what_capacity_absorbs(dealer_a, monkeypatch):
    free = {date(2030, 3, 5): 120, date(2030, 3, 6): 60}

    async def forecast(tenant_id, first_day, days):
        return free

    monkeypatch.setattr(appointments, "forecast_free_minutes", forecast)
    segment_id = await _audience(dealer_a.id, consenting=5)
    campaign = await service.create_campaign(dealer_a.id, _campaign(
        segment_id, throttle_to_capacity=True, minutes_per_visit=60), now=START)
    assert await service.advance_campaigns(dealer_a.id, START) == 3
    # the three invitations are still out: nothing more today
    assert await service.advance_campaigns(dealer_a.id, START) == 0
    waiting = [r for r in await _recipients(dealer_a.id, campaign.id) if r.step == 0]
    assert len(waiting) == 2


async def test_no_capacity_means_no_invitation(dealer_a):
    # a dealer without technicians has no free minutes at all (real forecast)
    segment_id = await _audience(dealer_a.id, consenting=2)
    await service.create_campaign(dealer_a.id, _campaign(
        segment_id, throttle_to_capacity=True), now=START)
    assert await service.advance_campaigns(dealer_a.id, START) == 0


async def test_forecast_counts_shifts_less_bookings(dealer_a):
    from dealerhub.platform.appointments.schemas import AppointmentCreate
    from tests.platform.appointments.conftest import equip, future_day

    shop = await equip(dealer_a, technicians=2)
    day = future_day(5)
    before = await appointments.forecast_free_minutes(dealer_a.id, day, 2)
    assert before[day] == 2 * 600  # two technicians, 08:00–18:00
    await appointments.book(dealer_a.id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(day, 10), job_codes=["OIL"]),
        channel="portal", actor="test")
    after = await appointments.forecast_free_minutes(dealer_a.id, day, 2)
    assert 0 < before[day] - after[day] <= 120
    assert after[day + (future_day(6) - day)] == 1200
