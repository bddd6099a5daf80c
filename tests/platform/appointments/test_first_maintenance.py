"""A sale proposes the first maintenance: `vehicle.sold` from the form/API and imports,
through the real relay and worker, to an invitation in the channels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dealerhub.channels import service as channels
from dealerhub.platform import events
from dealerhub.platform.tables import EventOutbox
from dealerhub.tenants.imports.service import import_rows
from tests.conftest import bearer_for
from tests.tenants.factories import make_vin, new_customer

pytestmark = pytest.mark.anyio


async def _deliver(worker) -> None:
    """The real path: relay the outbox, let the worker run the consumers."""
    while await events.relay_once():
        pass
    worker.drain(timeout_ms=120_000)


async def _sold_events(tenant_id) -> list[dict]:
    rows = await EventOutbox.select(EventOutbox.payload).where(
        (EventOutbox.tenant_id == tenant_id) & (EventOutbox.event_type == "vehicle.sold")
    ).output(load_json=True)
    return [row["payload"] for row in rows]


async def _invitations(tenant_id, customer_id):
    return [m for m in await channels.list_messages(tenant_id, customer_id=customer_id)
            if m.template_key == "appointment.first_maintenance"]


async def test_a_sale_through_the_api_proposes_the_first_maintenance(
        client, shop, jobs_worker, quiet_outbox) -> None:
    sold = datetime.now(UTC).date() - timedelta(days=3)
    headers = await bearer_for(client, shop.dealer.emails["service_advisor"])
    response = await client.post("/api/v1/vehicles", headers=headers, json={
        "customer_id": str(shop.customer_id), "vin": make_vin(),
        "purchase_date": sold.isoformat()})
    assert response.status_code == 201, response.text
    vehicle_id = response.json()["id"]
    assert await _sold_events(shop.tenant_id) == [
        {"vehicle_id": vehicle_id, "customer_id": str(shop.customer_id),
         "purchase_date": sold.isoformat()}]
    await _deliver(jobs_worker)
    (invitation,) = await _invitations(shop.tenant_id, shop.customer_id)
    assert invitation.related == {"vehicle_id": vehicle_id}
    detail = await channels.get_message(shop.tenant_id, invitation.id)
    proposed = sold + timedelta(days=91)
    assert f"{proposed.isoformat()} 09:00" in detail.body
    link = detail.body[detail.body.index("/c/appointments/book/"):].split()[0]
    assert link.endswith(f"?day={proposed.isoformat()}")
    page = await client.get(link)
    assert page.status_code == 200
    # a redelivered event sends nothing twice (the channels' idempotency key)
    await _deliver(jobs_worker)
    assert len(await _invitations(shop.tenant_id, shop.customer_id)) == 1


async def test_an_import_emits_one_event_per_recent_sale_set_based(
        shop, jobs_worker, quiet_outbox) -> None:
    today = datetime.now(UTC).date()
    customer = await new_customer(shop.tenant_id, external_id="S-1")
    rows = [
        {"external_id": "V-new", "customer_external_id": "S-1", "vin": make_vin(),
         "purchase_date": (today - timedelta(days=10)).isoformat()},
        {"external_id": "V-old", "customer_external_id": "S-1", "vin": make_vin(),
         "purchase_date": date(2023, 5, 1).isoformat()},  # history, not a sale
        {"external_id": "V-none", "customer_external_id": "S-1", "vin": make_vin()},
    ]
    job = await import_rows(shop.tenant_id, "vehicles", rows, None)
    assert (job.applied_rows, job.error_rows) == (3, 0)
    (sold,) = await _sold_events(shop.tenant_id)
    assert sold["customer_id"] == str(customer.id)
    await _deliver(jobs_worker)
    (invitation,) = await _invitations(shop.tenant_id, customer.id)
    assert invitation.related == {"vehicle_id": sold["vehicle_id"]}
    # re-importing the same rows updates them: no second sale
    await import_rows(shop.tenant_id, "vehicles", rows, None)
    assert len(await _sold_events(shop.tenant_id)) == 1


async def test_no_proposal_once_the_first_maintenance_day_has_passed(shop) -> None:
    from dealerhub.platform.appointments import service

    late = datetime.now(UTC).date() - timedelta(days=92)
    assert await service.invite_first_maintenance(
        shop.tenant_id, shop.vehicle_id, shop.customer_id, late) is None
