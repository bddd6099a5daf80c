"""Reminder due rows (72 h and 24 h before), claimed by the scheduler and handed to the
channels component, which picks the customer's preferred channel; CS tasks from replies."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dealerhub.platform import db, events
from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments._links import manage_path
from dealerhub.platform.appointments.tables import Appointment, Reminder, ServiceJob, Task
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import insert_rows, tenant_scope

log = logging.getLogger(__name__)
REMINDERS = (("72h", timedelta(hours=72)), ("24h", timedelta(hours=24)))
CLAIM_BATCH = 200
# The channels component keeps only a reply's class ("stop", "digit:N", "other"); the
# reminder text asks for 1 to confirm and 2 to reschedule.
REPLY_INTENTS = {"digit:1": "confirm", "digit:2": "reschedule"}

REMINDER_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    f"appointment.reminder_{kind}": {
        "zh-CN": (f"预约提醒（{label_zh}）",
                  "{{ customer_name }}您好，您在{{ dealer_name }}的预约时间为"
                  "{{ starts_at_local }}，项目：{{ jobs }}。一键确认：{{ confirm_url }} ；"
                  "改期或取消：{{ reschedule_url }} 。也可回复1确认，回复2改期。"),
        "en": (f"Service appointment reminder ({label_en})",
               "Hello {{ customer_name }}, your appointment at {{ dealer_name }} is on "
               "{{ starts_at_local }} for {{ jobs_en }}. Confirm with one tap: "
               "{{ confirm_url }} · Reschedule or cancel: {{ reschedule_url }} · "
               "Or reply 1 to confirm, 2 to reschedule."),
    }
    for kind, label_zh, label_en in (("72h", "提前3天", "in 3 days"), ("24h", "明天", "tomorrow"))
}


def reminder_rows(appointment_id: uuid.UUID, starts_at: datetime,
                  now: datetime) -> list[dict[str, Any]]:
    """The reminders still ahead of `now` (rows for `insert_rows`); one already past is
    not sent late. The id is the column's default."""
    return [{"appointment_id": appointment_id, "kind": kind,
             "due_at": starts_at - before, "status": "pending", "sent_at": None,
             "message_ref": ""}
            for kind, before in REMINDERS if starts_at - before > now]


async def schedule_reminders(appointment_id: uuid.UUID, starts_at: datetime,
                             now: datetime) -> None:
    """Replace the appointment's pending reminders (inside the caller's scope)."""
    await cancel_reminders(appointment_id)
    await insert_rows((Reminder, reminder_rows(appointment_id, starts_at, now)))


async def cancel_reminders(appointment_id: uuid.UUID) -> None:
    await Reminder.update_in_tenant({Reminder.status: "cancelled"}).where(
        (Reminder.appointment_id == appointment_id) & (Reminder.status == "pending"))


async def _message_context(appointment: dict[str, Any], dealer: dict[str, Any]) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    jobs = await ServiceJob.select_in_tenant(ServiceJob.code, ServiceJob.name_zh,
                                             ServiceJob.name_en).where(
        ServiceJob.code.is_in(list(appointment["job_codes"]) or [""]))
    local = appointment["starts_at"].astimezone(ZoneInfo(dealer["time_zone"]))
    tenant_id, appointment_id = appointment["tenant_id"], appointment["id"]
    base = get_settings().public_base_url.rstrip("/")
    return {
        "appointment_id": str(appointment_id),
        "dealer_name": dealer["name"],
        "starts_at_local": local.strftime("%Y-%m-%d %H:%M"),
        "jobs": "、".join(job["name_zh"] for job in jobs),
        "jobs_en": ", ".join(job["name_en"] for job in jobs),
        "manage_url": base + manage_path(tenant_id, appointment_id),
        "confirm_url": base + manage_path(tenant_id, appointment_id, "confirm"),
        "reschedule_url": base + manage_path(tenant_id, appointment_id, "reschedule"),
    }


async def claim_due_for_dealer(dealer: dict[str, Any], now: datetime) -> int:
    """Send this dealer's due reminders; rows are locked (SKIP LOCKED) so that two
    schedulers never send one twice, and the channels' idempotency key covers a retry."""
    due = (Reminder.status == "pending") & (Reminder.due_at <= now)
    async with tenant_scope(dealer["id"], write=False):
        if not await Reminder.count_in_tenant().where(due):
            return 0  # the common case: no write transaction (and no SQLite write lock)
    sent = 0
    async with tenant_scope(dealer["id"]):
        query = Reminder.select_in_tenant(Reminder.id, Reminder.kind,
                                          Reminder.appointment_id).where(due).order_by(
            Reminder.due_at).limit(CLAIM_BATCH)
        query = db.skip_locked(query, Reminder)
        for reminder in await query:
            appointment = await Appointment.select_in_tenant().where(
                Appointment.id == reminder["appointment_id"]).output(load_json=True).first()
            if appointment is None or appointment["status"] != "booked":
                await Reminder.update_in_tenant({Reminder.status: "skipped"}).where(
                    Reminder.id == reminder["id"])
                continue
            reference = await ports.enqueue_message(
                dealer["id"], appointment["customer_id"],
                f"appointment.reminder_{reminder['kind']}",
                await _message_context(appointment, dealer),
                related={"appointment_id": str(appointment["id"])},
                idempotency_key=f"appointment-reminder:{reminder['id']}",
            )
            await Reminder.update_in_tenant({Reminder.status: "sent", Reminder.sent_at: now,
                                             Reminder.message_ref: reference[:100]}).where(
                Reminder.id == reminder["id"])
            await events.emit("appointment.reminder_sent", {
                "reminder_id": reminder["id"], "appointment_id": appointment["id"],
                "customer_id": appointment["customer_id"], "kind": reminder["kind"],
                "starts_at": appointment["starts_at"], "sent_at": now, "message_id": reference})
            sent += 1
    return sent


async def claim_due_reminders(now: datetime | None = None) -> int:
    """One pass over every active dealer; one dealer's failure does not stop the others."""
    now = now or datetime.now(UTC)
    dealers = await Dealer.select(Dealer.id, Dealer.name, Dealer.time_zone).where(
        Dealer.status == "active")
    sent = 0
    for dealer in dealers:
        try:
            sent += await claim_due_for_dealer(dealer, now)
        except Exception:
            log.exception("appointment reminders for dealer %s failed", dealer["id"])
    return sent


def reply_intent(reply_class: str) -> str | None:
    """"confirm", "reschedule" or None for a reply to a reminder."""
    return REPLY_INTENTS.get(reply_class)


async def open_reschedule_task(appointment_id: uuid.UUID, note: str,
                               source_event_id: uuid.UUID | None) -> Task | None:
    """A task for the CS agent, inside the caller's tenant scope; once per source event."""
    appointment = await Appointment.get_in_tenant(appointment_id)
    if appointment is None:
        return None
    if source_event_id is not None and await Task.count_in_tenant().where(
            Task.source_event_id == source_event_id):
        return None
    (task,) = await Task.insert_in_tenant(Task(
        appointment_id=appointment.id, customer_id=appointment.customer_id,
        kind="reschedule_request", note=note[:1000], source_event_id=source_event_id))
    return task


async def open_tasks(tenant_id: uuid.UUID) -> list[Task]:
    async with tenant_scope(tenant_id, write=False):
        return await Task.objects_in_tenant().where(Task.status == "open").order_by(
            Task.created_at)


async def close_task(tenant_id: uuid.UUID, task_id: uuid.UUID) -> Task | None:
    async with tenant_scope(tenant_id):
        task = await Task.get_in_tenant(task_id)
        if task is not None and task.status == "open":
            task.status, task.done_at = "done", datetime.now(UTC)
            await Task.update_in_tenant({Task.status: "done", Task.done_at: task.done_at}).where(
                Task.id == task.id)
        return task
