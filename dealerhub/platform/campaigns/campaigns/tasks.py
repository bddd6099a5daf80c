"""Campaign sending and attribution: the scheduler makes each dealer's due contacts inside
that dealer's tenant scope; event consumers credit deliveries, replies, bookings, visits."""

from __future__ import annotations

import uuid

from dealerhub.platform import events, jobs
from dealerhub.platform.campaigns.campaigns import oem, service
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import transaction


@jobs.actor("campaigns.advance", max_retries=3)
async def advance(tenant_id: str) -> None:
    await service.advance_campaigns(uuid.UUID(tenant_id))


@jobs.periodic("campaigns.send_due", every_seconds=60)
async def send_due() -> int:
    """One job per active dealer; each claims its own due contacts."""
    async with transaction(write=False):
        dealers = await Dealer.select(Dealer.id).where(Dealer.status == "active")
    for row in dealers:
        advance.send(str(row["id"]))
    return len(dealers)


events.consumer("message.delivered", "campaigns.delivered")(service.on_delivered)
events.consumer("message.replied", "campaigns.replied")(service.on_replied)
events.consumer("appointment.booked", "campaigns.booked")(service.on_booked)
events.consumer("repair_order.closed", "campaigns.visited")(service.on_visit)


@jobs.periodic("campaigns.refresh_oem_results", every_seconds=300)
async def refresh_oem_results() -> int:
    """Per-dealer counts of recent national campaigns, each computed in its dealer's scope."""
    return await oem.refresh_recent()
