"""Lifecycle touchpoints: the schedule after a visit, cancellation when the customer comes
back earlier, messages and surveys sent when due, and the CS call list with outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.complaints.tables import Complaint
from dealerhub.survey.touchpoints import service as touchpoints
from dealerhub.survey.touchpoints.tables import Touchpoint
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.repair_orders.schemas import RepairOrderOpen
from dealerhub.tenants.repair_orders.service import open_repair_order
from tests.survey.conftest import payloads, run_consumer, visited_customer

pytestmark = pytest.mark.anyio
CS = complaints.Actor(None, "cs_agent")


async def _schedule(dealer, at: datetime):
    visited = await visited_customer(dealer.id, at=at)
    await run_consumer(dealer.id, "repair_order.closed", "survey.touchpoints")
    return visited


async def _rows(dealer, customer_id) -> dict[str, Touchpoint]:
    return {row.kind: row for row in await touchpoints.for_customer(dealer.id, customer_id)}


async def test_a_visit_schedules_the_246_touchpoints(dealer_a) -> None:
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    visited = await _schedule(dealer_a, at)
    rows = await _rows(dealer_a, visited.customer_id)
    expected = {"contact_48h": timedelta(hours=48), "care_call_15": timedelta(days=15),
                "satisfaction_30": timedelta(days=30), "usage_60": timedelta(days=60),
                "seasonal_90": timedelta(days=90), "event_120": timedelta(days=120),
                "call_150": timedelta(days=150), "return_180": timedelta(days=180)}
    assert {kind: row.due_at - at for kind, row in rows.items()} == expected
    assert {kind for kind, row in rows.items() if row.mode == "call"} == {
        "contact_48h", "care_call_15", "call_150", "return_180"}
    assert all(row.status == "scheduled" for row in rows.values())


async def test_returning_earlier_cancels_what_is_pending(dealer_a) -> None:
    at = datetime.now(UTC) - timedelta(days=40)
    visited = await _schedule(dealer_a, at)
    await touchpoints.claim_due_for_dealer(dealer_a.id, at + timedelta(days=31))
    vehicle_id = (await _vehicle(dealer_a, visited.repair_order_id))
    await open_repair_order(dealer_a.id, RepairOrderOpen(
        vehicle_id=vehicle_id, customer_id=visited.customer_id,
        opened_at=datetime.now(UTC) - timedelta(minutes=5), ro_type="maintenance"))
    await run_consumer(dealer_a.id, "repair_order.opened", "survey.touchpoints_cancel")
    rows = await _rows(dealer_a, visited.customer_id)
    assert rows["satisfaction_30"].status != "cancelled"  # already done before the return
    assert rows["usage_60"].status == "cancelled" and rows["return_180"].status == "cancelled"
    assert rows["usage_60"].outcome == "returned"


async def _vehicle(dealer, repair_order_id):
    from dealerhub.tenants.repair_orders.service import get_repair_order

    return (await get_repair_order(dealer.id, repair_order_id)).vehicle_id


async def test_due_rows_send_messages_and_surveys_and_open_calls(dealer_a, bank) -> None:
    at = datetime.now(UTC) - timedelta(days=70)
    visited = await _schedule(dealer_a, at)
    claimed = await touchpoints.claim_due_for_dealer(dealer_a.id, datetime.now(UTC))
    assert claimed == 4  # 48 h, day 15, day 30, day 60
    rows = await _rows(dealer_a, visited.customer_id)
    assert rows["contact_48h"].status == "open" and rows["care_call_15"].status == "open"
    assert rows["usage_60"].status == "sent" and rows["seasonal_90"].status == "scheduled"
    async with tenant_scope(dealer_a.id, write=False):
        survey = await Invitation.objects_in_tenant().where(
            Invitation.customer_id == visited.customer_id, Invitation.kind == "touchpoint").first()
    assert survey is not None and survey.status == "sent"
    due = [p for p in await payloads(dealer_a.id, "touchpoint.due")
           if p["customer_id"] == str(visited.customer_id)]
    assert len(due) == 4


async def test_call_list_and_outcomes(dealer_a) -> None:
    at = datetime.now(UTC) - timedelta(days=3)
    visited = await _schedule(dealer_a, at)
    await touchpoints.claim_due_for_dealer(dealer_a.id, datetime.now(UTC))
    listed = await touchpoints.call_list(dealer_a.id)
    call = next(c for c in listed.calls if c.customer_id == visited.customer_id)
    assert call.kind == "contact_48h"
    with pytest.raises(complaints.NotAllowed):
        await touchpoints.record_outcome(dealer_a.id, call.id, "reached_ok", "",
                                         complaints.Actor(None, "service_advisor"))
    with pytest.raises(Exception, match="outcome"):
        await touchpoints.record_outcome(dealer_a.id, call.id, "maybe", "", CS)
    retried = await touchpoints.record_outcome(dealer_a.id, call.id, "no_answer", "", CS)
    assert retried.status == "open" and retried.due_at > datetime.now(UTC)
    done = await touchpoints.record_outcome(dealer_a.id, call.id, "reached_issue",
                                            "客户说空调还是不凉", CS)
    assert done.status == "done" and done.outcome == "reached_issue"
    async with tenant_scope(dealer_a.id, write=False):
        opened = await Complaint.objects_in_tenant().where(
            Complaint.customer_id == visited.customer_id).first()
    assert opened.source == "call" and "空调" in opened.verbatim
    completed = [p for p in await payloads(dealer_a.id, "touchpoint.completed")
                 if p["touchpoint_id"] == str(call.id)]
    assert completed and completed[0]["outcome"] == "reached_issue"
