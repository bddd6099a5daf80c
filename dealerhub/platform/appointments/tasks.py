"""Background work: claiming due reminders, reading customers' replies to them, and the
registrations with the channels (message templates) and the customer timeline."""

from __future__ import annotations

import uuid
from datetime import date

from dealerhub.platform import events, jobs
from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments._booking import StateError

REMINDER_EVERY_SECONDS = 30

ports.register_templates(service.TEMPLATES)
ports.register_timeline(service.timeline_entries)


@jobs.periodic("appointments.claim_due_reminders", every_seconds=REMINDER_EVERY_SECONDS)
async def claim_due_reminders() -> int:
    return await service.claim_due_reminders()


@events.consumer("message.replied", "appointments.reply_to_reminder")
async def reply_to_reminder(event: events.Event) -> None:
    """A reply to a reminder: 1 confirms; 2 asks to reschedule, which opens a CS task."""
    related = event.payload.get("related") or {}
    intent = service.reply_intent(str(event.payload.get("reply", "")))
    if intent is None or not related.get("appointment_id") or event.tenant_id is None:
        return
    appointment_id = uuid.UUID(str(related["appointment_id"]))
    if intent == "reschedule":
        await service.open_reschedule_task(appointment_id, "customer replied 2 (reschedule)",
                                           event.id)
        return
    try:
        await service.confirm(event.tenant_id, appointment_id)
    except StateError:
        return  # replied after the appointment was cancelled or took place


@events.consumer("vehicle.sold", "appointments.first_maintenance_at_sale")
async def first_maintenance_at_sale(event: events.Event) -> None:
    """A vehicle registered with its purchase date: propose its first maintenance."""
    if event.tenant_id is None:
        return
    await service.invite_first_maintenance(
        event.tenant_id, uuid.UUID(str(event.payload["vehicle_id"])),
        uuid.UUID(str(event.payload["customer_id"])),
        date.fromisoformat(str(event.payload["purchase_date"])))
