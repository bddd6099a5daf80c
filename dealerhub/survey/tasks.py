"""Background work and registrations: event consumers (quick-review triggers, touchpoint
schedules, SMS digit answers), the scheduler's due-row claims, message templates and the
customer timeline sources."""

from __future__ import annotations

from datetime import datetime

from dealerhub.platform import events, jobs
from dealerhub.survey import timeline as _timeline  # noqa: F401 - registers timeline sources
from dealerhub.survey.answers import service as answers
from dealerhub.survey.common import as_uuid, aware, utcnow
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.touchpoints import service as touchpoints
from dealerhub.survey.triggers import service as triggers

TRIGGER_EVENTS = ("repair_order.closed", "appointment.completed", "complaint.resolved")

async def quick_review(event: events.Event) -> None:
    await triggers.trigger(event)


for _event_type in TRIGGER_EVENTS:
    events.consumer(_event_type, "survey.trigger")(quick_review)


@events.consumer("repair_order.closed", "survey.touchpoints")
async def schedule_touchpoints(event: events.Event) -> None:
    customer_id = as_uuid(event.payload.get("customer_id"))
    closed_at = event.payload.get("closed_at")
    if customer_id is None:
        return
    at = aware(datetime.fromisoformat(closed_at)) if closed_at else event.occurred_at
    await touchpoints.schedule_after_visit(
        customer_id, as_uuid(event.payload.get("repair_order_id")), at)


@events.consumer("repair_order.opened", "survey.touchpoints_cancel")
async def cancel_touchpoints(event: events.Event) -> None:
    customer_id = as_uuid(event.payload.get("customer_id"))
    if customer_id is not None:
        await touchpoints.cancel_pending(customer_id, "the customer came back", utcnow())


@events.consumer("sms.reply_digit", "survey.sms_digit")
async def sms_digit(event: events.Event) -> None:
    related = event.payload.get("related") or {}
    invitation_id = as_uuid(related.get("survey_invitation_id"))
    if invitation_id is None or event.tenant_id is None:
        return
    await answers.record_digit(event.tenant_id, invitation_id, int(event.payload["digit"]))


@jobs.periodic("survey.claim_due_invitations", every_seconds=30)
async def claim_due_invitations() -> int:
    return await triggers.claim_due()


@jobs.periodic("survey.claim_due_touchpoints", every_seconds=60)
async def claim_due_touchpoints() -> int:
    return await touchpoints.claim_due()


@jobs.periodic("survey.check_complaint_slas", every_seconds=300)
async def check_complaint_slas() -> int:
    return await complaints.check_slas()


