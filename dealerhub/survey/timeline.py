"""The customer 360 timeline: surveys (with their answers) and complaints."""

from __future__ import annotations

import uuid

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.complaints.tables import Complaint
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.customers.timeline import TimelineEntry, register_timeline_source


async def survey_entries(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                         limit: int) -> list[TimelineEntry]:
    async with tenant_scope(tenant_id, write=False):
        rows = await Invitation.objects_in_tenant().where(
            Invitation.customer_id == customer_id).order_by(
            Invitation.created_at, ascending=False).limit(limit)
        answers = await Answer.select_in_tenant(
            Answer.invitation_id, Answer.question_key, Answer.value_int, Answer.value_text,
        ).where(Answer.invitation_id.is_in([r.id for r in rows])) if rows else []
    by_invitation: dict[uuid.UUID, list[str]] = {}
    for a in answers:
        value = a["value_text"] if a["value_text"] is not None else a["value_int"]
        by_invitation.setdefault(a["invitation_id"], []).append(f"{a['question_key']}={value}")
    return [TimelineEntry(
        at=row.answered_at or row.sent_at or row.created_at, kind="survey",
        title=f"survey ({row.kind})",
        detail=" · ".join(by_invitation.get(row.id, [])) or row.reason,
        href="/survey/results", status=row.status) for row in rows]


async def complaint_entries(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                            limit: int) -> list[TimelineEntry]:
    async with tenant_scope(tenant_id, write=False):
        rows = await Complaint.objects_in_tenant().where(
            Complaint.customer_id == customer_id).order_by(
            Complaint.opened_at, ascending=False).limit(limit)
    return [TimelineEntry(at=row.opened_at, kind="complaint", title=f"complaint ({row.source})",
                          detail=row.verbatim[:200], href=f"/complaints/{row.id}",
                          status=row.status) for row in rows]


register_timeline_source("survey.invitations", survey_entries)
register_timeline_source("survey.complaints", complaint_entries)
