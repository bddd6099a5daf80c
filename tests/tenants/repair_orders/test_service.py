"""Repair orders: events, declined work, validation without partial writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dealerhub.platform.tables import EventOutbox
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.repair_orders.schemas import RepairOrderLineWrite, RepairOrderOpen
from dealerhub.tenants.repair_orders.service import (
    close_repair_order,
    declined_work,
    get_repair_order,
    open_repair_order,
    repair_orders_for_customer,
)
from dealerhub.tenants.vehicles.service import get_vehicle
from tests.conftest import bearer_for
from tests.tenants.factories import new_customer, new_vehicle, utc, visit

pytestmark = pytest.mark.anyio


async def _vehicle(tenant_id):
    customer = await new_customer(tenant_id)
    return await new_vehicle(tenant_id, customer.id)


async def test_open_and_close_emit_events_and_keep_declined_work(dealer_a) -> None:
    vehicle = await _vehicle(dealer_a.id)
    opened = await open_repair_order(dealer_a.id, RepairOrderOpen(
        vehicle_id=vehicle.id, customer_id=vehicle.customer_id, opened_at=utc(2025, 5, 1),
        ro_type="maintenance", mileage_km=15000, intake={"complaint": "保养"}))
    closed = await close_repair_order(dealer_a.id, opened.id, utc(2025, 5, 1, 15), [
        RepairOrderLineWrite("OIL", Decimal("480.00"), "机油"),
        {"operation_code": "BRK", "amount": "1200", "description": "刹车片", "declined": True},
    ])
    assert closed.total_amount == Decimal("480.00") and closed.status == "closed"
    (work,) = await declined_work(dealer_a.id, vehicle.id)
    assert (work.operation_code, work.estimate) == ("BRK", Decimal("1200.00"))
    events = await EventOutbox.select(EventOutbox.event_type, EventOutbox.payload).where(
        EventOutbox.tenant_id == dealer_a.id)
    by_type = {e["event_type"]: e["payload"] for e in events}
    payload = by_type["repair_order.closed"]
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["repair_order_id"] == str(opened.id) and payload["total_amount"] == 480.0
    assert "repair_order.opened" in by_type
    assert (await get_vehicle(dealer_a.id, vehicle.id)).last_odometer_km == 15000


async def test_negative_amount_changes_nothing(dealer_a) -> None:
    vehicle = await _vehicle(dealer_a.id)
    opened = await open_repair_order(dealer_a.id, RepairOrderOpen(
        vehicle_id=vehicle.id, customer_id=vehicle.customer_id, opened_at=utc(2025, 5, 1),
        ro_type="repair"))
    with pytest.raises(InvalidInput) as refused:
        await close_repair_order(dealer_a.id, opened.id, utc(2025, 5, 2), [
            RepairOrderLineWrite("OIL", Decimal("100")),
            RepairOrderLineWrite("X", Decimal("-5"))])
    assert refused.value.errors[0].field == "lines[1].amount"
    still = await get_repair_order(dealer_a.id, opened.id)
    assert still.status == "open" and still.lines == []


async def test_decreasing_mileage_and_wrong_owner_are_refused(dealer_a) -> None:
    vehicle = await _vehicle(dealer_a.id)
    await visit(dealer_a.id, vehicle, utc(2025, 5, 1), mileage_km=20000)
    with pytest.raises(InvalidInput) as refused:
        await open_repair_order(dealer_a.id, RepairOrderOpen(
            vehicle_id=vehicle.id, customer_id=uuid.uuid4(), opened_at=utc(2025, 6, 1),
            ro_type="oil-change", mileage_km=-1))
    assert {e.field for e in refused.value.errors} == {"customer_id", "ro_type", "mileage_km"}
    with pytest.raises(InvalidInput) as refused:
        await open_repair_order(dealer_a.id, RepairOrderOpen(
            vehicle_id=vehicle.id, customer_id=vehicle.customer_id, opened_at=utc(2025, 6, 1),
            ro_type="repair", mileage_km=19000))
    assert refused.value.errors[0].field == "mileage_km"
    orders = await repair_orders_for_customer(dealer_a.id, vehicle.customer_id)
    assert len(orders) == 1  # the refused order left nothing behind


async def test_api_closes_with_lines_and_refuses_future_and_twice(client, dealer_a) -> None:
    vehicle = await _vehicle(dealer_a.id)
    headers = await bearer_for(client, dealer_a.emails["service_advisor"])
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    response = await client.post("/api/v1/repair-orders", headers=headers, json={
        "vehicle_id": str(vehicle.id), "customer_id": str(vehicle.customer_id),
        "opened_at": future, "ro_type": "repair"})
    assert response.status_code == 400 and response.json()["errors"][0]["key"] == "opened_at"
    opened = await client.post("/api/v1/repair-orders", headers=headers, json={
        "vehicle_id": str(vehicle.id), "customer_id": str(vehicle.customer_id),
        "opened_at": "2025-05-01T09:00:00Z", "ro_type": "warranty", "mileage_km": 800})
    assert opened.status_code == 201
    url = f"/api/v1/repair-orders/{opened.json()['id']}/close"
    body = {"closed_at": "2025-05-01T12:00:00Z",
            "lines": [{"operation_code": "W1", "amount": "0"}]}
    assert (await client.post(url, headers=headers, json=body)).status_code == 200
    twice = await client.post(url, headers=headers, json=body)
    assert twice.status_code == 400 and twice.json()["errors"][0]["key"] == "status"
