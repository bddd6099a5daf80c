"""Fixtures for the survey tests: the national bank, customers with a visit, and running
one consumer over this dealer's events."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerhub.survey import tasks as _tasks  # noqa: F401 - consumers and templates
from dealerhub.survey.seed import seed_bank
from tests.tenants.factories import new_customer, new_vehicle, visit


@pytest.fixture
async def bank(database: None) -> None:
    await seed_bank()


async def run_consumer(tenant_id: uuid.UUID, event_type: str, consumer: str) -> int:
    """Hand every event of this type for this dealer to one consumer (idempotent)."""
    from dealerhub.platform import events
    from dealerhub.platform.tables import EventOutbox

    rows = await EventOutbox.select(EventOutbox.id).where(
        (EventOutbox.event_type == event_type) & (EventOutbox.tenant_id == tenant_id)
    ).order_by(EventOutbox.occurred_at)
    handled = 0
    for row in rows:
        handled += await events.handle(row["id"], consumer)
    return handled


async def payloads(tenant_id: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
    from dealerhub.platform.tables import EventOutbox

    rows = await EventOutbox.select(EventOutbox.payload).where(
        (EventOutbox.event_type == event_type) & (EventOutbox.tenant_id == tenant_id))
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
            for r in rows]


@dataclass
class Visited:
    customer_id: uuid.UUID
    repair_order_id: uuid.UUID
    closed_at: datetime


async def visited_customer(tenant_id: uuid.UUID, at: datetime | None = None,
                           **fields: Any) -> Visited:
    customer = await new_customer(tenant_id, **fields)
    vehicle = await new_vehicle(tenant_id, customer.id)
    at = at or datetime.now(UTC) - timedelta(hours=1)
    order = await visit(tenant_id, vehicle, at)
    return Visited(customer.id, order.id, at)


async def sent_invitation(tenant_id: uuid.UUID, **fields: Any):
    """A customer with a closed visit whose quick review has been sent."""
    from dealerhub.platform.tenancy import tenant_scope
    from dealerhub.survey.triggers import service as triggers
    from dealerhub.survey.triggers.tables import Invitation

    visited = await visited_customer(tenant_id, **fields)
    await run_consumer(tenant_id, "repair_order.closed", "survey.trigger")
    await triggers.claim_due_for_dealer(tenant_id, datetime.now(UTC) + timedelta(hours=3))
    async with tenant_scope(tenant_id, write=False):
        row = await Invitation.objects_in_tenant().where(
            Invitation.customer_id == visited.customer_id).output(load_json=True).first()
    return row


async def invited(tenant_id: uuid.UUID, keys: list[str], advisor: uuid.UUID | None = None,
                  **customer_fields: Any):
    """A quick review with these questions, sent now to a new customer with a visit."""
    from dealerhub.platform.tenancy import tenant_scope
    from dealerhub.survey.triggers import service as triggers
    from dealerhub.survey.triggers.tables import Invitation

    visited = await visited_customer(tenant_id, **customer_fields)
    now = datetime.now(UTC)
    async with tenant_scope(tenant_id):
        row = await triggers.create_direct(visited.customer_id, "quick", keys, now)
        row.advisor_staff_id = advisor
        await Invitation.update_in_tenant({Invitation.advisor_staff_id: advisor}).where(
            Invitation.id == row.id)
        await triggers.send_invitation(row, now)
    return row
