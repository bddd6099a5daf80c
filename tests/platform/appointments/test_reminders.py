"""Reminder due rows through the channels, replies to them, the timeline and the
first-maintenance proposal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dealerhub.channels import service as channels
from dealerhub.platform import events
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments import tasks as appointment_tasks
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.appointments.tables import Reminder
from dealerhub.platform.tenancy import tenant_scope
from tests.platform.appointments.conftest import future_day
from tests.tenants.factories import new_vehicle

pytestmark = pytest.mark.anyio


async def book(shop, starts_at, vehicle_id=None):
    return (await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=vehicle_id or shop.vehicle_id, starts_at=starts_at, job_codes=["OIL"]),
        channel="portal", actor="t")).appointment


async def reminders(shop, appointment_id):
    async with tenant_scope(shop.tenant_id, write=False):
        return await Reminder.select_in_tenant().where(
            Reminder.appointment_id == appointment_id).order_by(Reminder.due_at)


async def test_due_reminders_are_sent_once_through_the_channels(shop) -> None:
    booked = await book(shop, shop.local(future_day(6), 10))
    due_72h = booked.starts_at - timedelta(hours=72)
    await service.claim_due_reminders(now=due_72h - timedelta(minutes=1))
    assert {r["status"] for r in await reminders(shop, booked.id)} == {"pending"}
    await service.claim_due_reminders(now=due_72h + timedelta(minutes=1))
    rows = await reminders(shop, booked.id)
    assert [(r["kind"], r["status"]) for r in rows] == [("72h", "sent"), ("24h", "pending")]
    messages = await channels.list_messages(shop.tenant_id, customer_id=shop.customer_id)
    assert [m.template_key for m in messages] == ["appointment.reminder_72h"]
    assert messages[0].related == {"appointment_id": str(booked.id)}
    detail = await channels.get_message(shop.tenant_id, messages[0].id)
    assert "/c/appointments/" in detail.body and "/confirm" in detail.body
    await service.claim_due_reminders(now=due_72h + timedelta(minutes=2))
    assert len(await channels.list_messages(shop.tenant_id, customer_id=shop.customer_id)) == 1


async def test_cancelled_appointment_gets_no_reminder(shop) -> None:
    booked = await book(shop, shop.local(future_day(6), 10))
    await service.cancel(shop.tenant_id, booked.id)
    await service.claim_due_reminders(now=booked.starts_at - timedelta(hours=1))
    assert {r["status"] for r in await reminders(shop, booked.id)} == {"cancelled"}
    assert await channels.list_messages(shop.tenant_id, customer_id=shop.customer_id) == []


async def _reply(shop, appointment_id, reply: str) -> None:
    async with tenant_scope(shop.tenant_id):
        event_id = await events.emit("message.replied", {
            "message_id": "00000000-0000-0000-0000-000000000001",
            "customer_id": shop.customer_id, "channel": "sms", "purpose": "service",
            "related": {"appointment_id": str(appointment_id)}, "reply": reply})
    assert await events.handle(event_id, "appointments.reply_to_reminder")
    assert not await events.handle(event_id, "appointments.reply_to_reminder")


async def test_reply_2_opens_a_reschedule_task_and_1_confirms(shop) -> None:
    assert appointment_tasks.reply_to_reminder  # the consumer is registered on import
    booked = await book(shop, shop.local(future_day(), 10))
    await _reply(shop, booked.id, "digit:2")
    tasks = await service.open_tasks(shop.tenant_id)
    assert [(t.appointment_id, t.kind) for t in tasks] == [(booked.id, "reschedule_request")]
    board = await service.day_board(shop.tenant_id, future_day())
    assert board.groups[0].rows[0].open_tasks == 1 and board.groups[0].rows[0].unconfirmed
    await _reply(shop, booked.id, "digit:1")
    confirmed = await service.get_appointment(shop.tenant_id, booked.id)
    assert confirmed.confirmed_at is not None
    await _reply(shop, booked.id, "other")
    assert len(await service.open_tasks(shop.tenant_id)) == 1


async def test_24h_reminder_is_24_real_hours_across_daylight_saving(database) -> None:
    from tests.platform.appointments.conftest import build_shop

    berlin = await build_shop("Europe/Berlin")
    booked = await book(berlin, berlin.local(date(2027, 3, 28), 10))
    rows = await reminders(berlin, booked.id)
    assert [r["due_at"] for r in rows] == [datetime(2027, 3, 25, 8, tzinfo=UTC),
                                           datetime(2027, 3, 27, 8, tzinfo=UTC)]


async def test_day_board_groups_by_advisor_and_counts_statuses(shop) -> None:
    day = future_day()
    first = await book(shop, shop.local(day, 9))
    await book(shop, shop.local(day, 11))
    await service.change_status(shop.tenant_id, first.id, "arrived")
    board = await service.day_board(shop.tenant_id, day)
    assert board.counts["arrived"] == 1 and board.counts["booked"] == 1
    assert board.counts["unconfirmed"] == 1
    assert [r.starts_local.hour for g in board.groups for r in g.rows] == [9, 11]


async def test_timeline_lists_the_customers_appointments(shop) -> None:
    from dealerhub.tenants.customers.timeline import timeline

    booked = await book(shop, shop.local(future_day(), 9))
    entries = [e for e in await timeline(shop.tenant_id, shop.customer_id)
               if e.kind == "appointment"]
    assert entries[0].href == f"/appointments/{booked.id}" and entries[0].status == "booked"


async def test_first_maintenance_is_proposed_three_months_after_sale(shop) -> None:
    sold = datetime.now(UTC).date() - timedelta(days=5)
    vehicle = await new_vehicle(shop.tenant_id, shop.customer_id, purchase_date=sold)
    found = await service.propose_first_maintenance(shop.tenant_id, vehicle.id)
    assert found.need.codes == ["FIRST_MAINT"]
    assert found.proposed.starts_at.astimezone(shop.zone).date() == sold + timedelta(days=91)
    booked = await book(shop, found.proposed.starts_at, vehicle_id=vehicle.id)
    assert booked.vehicle_id == vehicle.id
