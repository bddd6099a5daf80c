"""The daily due-list run: the scheduler finds dealers whose local day has no lists yet and
hands each to its own job, which works inside that dealer's tenant scope."""

from __future__ import annotations

import uuid

from dealerhub.platform import events, jobs
from dealerhub.platform.campaigns.due_lists import service


@jobs.actor("due_lists.generate", max_retries=3)
async def generate(tenant_id: str) -> None:
    await service.generate_due_lists(uuid.UUID(tenant_id))


@jobs.periodic("due_lists.generate_daily", every_seconds=600)
async def generate_daily() -> int:
    """Enqueue one job per dealer whose lists for its own local today are missing."""
    dealer_ids = await service.dealers_to_generate()
    for dealer_id in dealer_ids:
        generate.send(str(dealer_id))
    return len(dealer_ids)


@events.consumer("repair_order.closed", "due_lists.visit")
async def settle_on_visit(event: events.Event) -> None:
    """A visit settles the vehicle's open entries (runs inside the event's tenant scope)."""
    vehicle_id = event.payload.get("vehicle_id")
    await service.mark_visited(uuid.UUID(vehicle_id) if vehicle_id else None,
                               uuid.UUID(event.payload["customer_id"]))
