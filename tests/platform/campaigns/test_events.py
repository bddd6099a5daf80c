"""Events for scoring and attribution through the real outbox, relay and worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import anyio
import pytest

from dealerhub.platform import events
from dealerhub.platform.campaigns.campaigns import service
from dealerhub.platform.campaigns.due_lists.service import generate_due_lists
from dealerhub.platform.tables import EventOutbox
from tests.platform.campaigns.conftest import vehicle_with
from tests.platform.campaigns.test_campaigns import _audience, _campaign, _recipients
from tests.tenants.factories import visit

pytestmark = pytest.mark.anyio


async def _types(tenant_id) -> list[str]:
    rows = await EventOutbox.select(EventOutbox.event_type).where(
        EventOutbox.tenant_id == tenant_id)
    return [row["event_type"] for row in rows]


async def test_due_list_generated_event(dealer_a):
    await vehicle_with(dealer_a.id, purchase_date=date.today() - timedelta(90))
    await generate_due_lists(dealer_a.id)
    assert "due_list.generated" in await _types(dealer_a.id)


async def test_visit_after_contact_is_credited_through_the_relay(dealer_a, jobs_worker,
                                                                quiet_outbox):
    now = datetime.now(UTC)
    segment_id = await _audience(dealer_a.id, consenting=1)
    campaign = await service.create_campaign(dealer_a.id, _campaign(
        segment_id, starts_at=now), now=now)
    await service.advance_campaigns(dealer_a.id, now)
    (recipient,) = await _recipients(dealer_a.id, campaign.id)
    assert "campaign.recipient_contacted" in await _types(dealer_a.id)
    from dealerhub.tenants.vehicles.service import get_vehicle

    vehicle = await get_vehicle(dealer_a.id, recipient.vehicle_id)
    await visit(dealer_a.id, vehicle, now + timedelta(minutes=5), amount="1200")
    found = await service.results(dealer_a.id, campaign.id)
    for _ in range(60):  # a delivery that failed is retried after a back-off
        if found.treatment.visited:
            break
        await events.relay_once()
        jobs_worker.drain(timeout_ms=120_000)
        await anyio.sleep(0.5)
        found = await service.results(dealer_a.id, campaign.id)
    assert found.treatment.visited == 1 and found.treatment.revenue == 1200
    assert "campaign.converted" in await _types(dealer_a.id)
