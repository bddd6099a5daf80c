"""Lifecycle touchpoints after each visit ("246": day 15 care call, day 30 satisfaction
survey, day 60 usage survey, day 90 seasonal check, day 120 event invitation, day 150 call
and reminder, day 180 return-visit booking) and the 48-hour post-service contact.

They are due rows: a visit schedules them, a new visit cancels what is still pending, the
scheduler sends the messages and surveys and opens the calls on CS agents' call list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dealerhub.channels import service as channels
from dealerhub.platform import db, events
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.common import TEXT_MAX, each_dealer, invalid, utcnow
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.complaints.tables import Complaint
from dealerhub.survey.messages import TOUCHPOINT_TEMPLATE as MESSAGE_TEMPLATE
from dealerhub.survey.touchpoints.tables import Touchpoint
from dealerhub.survey.triggers import service as triggers


@dataclass(frozen=True)
class Step:
    kind: str
    after: timedelta
    mode: str  # call | message | survey
    label: str  # an English msgid
    label_zh: str  # the text a customer's message uses


SCHEDULE = (
    Step("contact_48h", timedelta(hours=48), "call", "48-hour post-service contact",
         "服务后48小时回访"),
    Step("care_call_15", timedelta(days=15), "call", "Day 15 care call", "第15天关怀电话"),
    Step("satisfaction_30", timedelta(days=30), "survey", "Day 30 satisfaction survey",
         "第30天满意度调查"),
    Step("usage_60", timedelta(days=60), "message", "Day 60 usage survey and care products",
         "用车情况调查与养护用品推荐"),
    Step("seasonal_90", timedelta(days=90), "message", "Day 90 seasonal inspection",
         "季节性免费检查"),
    Step("event_120", timedelta(days=120), "message", "Day 120 event invitation",
         "车主俱乐部活动邀请"),
    Step("call_150", timedelta(days=150), "call", "Day 150 call and maintenance reminder",
         "保养提醒电话"),
    Step("return_180", timedelta(days=180), "call", "Day 180 return-visit booking",
         "预约回厂"),
)
STEPS = {step.kind: step for step in SCHEDULE}
PENDING = ("scheduled", "open")
SURVEY_KEYS = ["overall.csat", "overall.nps", "followup.fixed_first_time"]
OUTCOMES = ("reached_ok", "reached_issue", "no_answer", "wrong_number", "booked")
RETRY_AFTER = timedelta(days=1)
CLAIM_BATCH = 200


async def cancel_pending(customer_id: uuid.UUID, reason: str, now: datetime) -> int:
    """Inside the tenant scope: the customer came back, so pending touchpoints lapse."""
    rows = await Touchpoint.update_in_tenant({
        Touchpoint.status: "cancelled", Touchpoint.outcome: "returned", Touchpoint.note: reason,
        Touchpoint.completed_at: now,
    }).where(Touchpoint.customer_id == customer_id,
             Touchpoint.status.is_in(list(PENDING))).returning(Touchpoint.id)
    return len(rows)


async def schedule_after_visit(customer_id: uuid.UUID, repair_order_id: uuid.UUID | None,
                               closed_at: datetime) -> list[Touchpoint]:
    """Inside the tenant scope: the visit's touchpoints, replacing any still pending."""
    await cancel_pending(customer_id, "a new visit", closed_at)
    rows = [Touchpoint(customer_id=customer_id, repair_order_id=repair_order_id, kind=step.kind,
                       mode=step.mode, due_at=closed_at + step.after, status="scheduled",
                       created_at=closed_at) for step in SCHEDULE]
    return await Touchpoint.insert_in_tenant(*rows)


async def _come_due(row: Touchpoint, now: datetime) -> None:
    tid = row.tenant_id
    status = "open" if row.mode == "call" else "sent"
    if row.mode == "survey":
        invitation = await triggers.create_direct(row.customer_id, "touchpoint", SURVEY_KEYS, now,
                                                  repair_order_id=row.repair_order_id)
        if invitation.status == "scheduled":
            status = await triggers.send_invitation(invitation, now)
        else:
            status = "suppressed"
    elif row.mode == "message":
        step = STEPS[row.kind]
        message = await channels.enqueue_message(
            tid, row.customer_id, "service", MESSAGE_TEMPLATE,
            {"topic_zh": step.label_zh, "topic_en": step.label, "kind": row.kind},
            related={"touchpoint_id": str(row.id)}, idempotency_key=f"touchpoint:{row.id}",
            now=now)
        status = "suppressed" if message.status == "suppressed" else "sent"
    await Touchpoint.update_in_tenant({Touchpoint.status: status}).where(Touchpoint.id == row.id)
    await events.emit("touchpoint.due", {
        "touchpoint_id": row.id, "customer_id": row.customer_id, "kind": row.kind,
        "mode": row.mode, "due_at": row.due_at, "status": status,
        "repair_order_id": row.repair_order_id})


async def claim_due_for_dealer(tenant_id: uuid.UUID, now: datetime) -> int:
    async with tenant_scope(tenant_id):
        query = Touchpoint.objects_in_tenant().where(
            Touchpoint.status == "scheduled", Touchpoint.due_at <= now,
        ).order_by(Touchpoint.due_at).limit(CLAIM_BATCH)
        query = db.skip_locked(query, Touchpoint)
        rows = await query
        for row in rows:
            await _come_due(row, now)
    return len(rows)


async def claim_due(now: datetime | None = None) -> int:
    return await each_dealer(claim_due_for_dealer, now)


@dataclass(frozen=True)
class CallList:
    calls: list[Touchpoint]
    total: int
    callbacks: list[Complaint]  # resolved complaints waiting for CS's call


async def call_list(tenant_id: uuid.UUID, *, page: int = 1, per_page: int = 25) -> CallList:
    async with tenant_scope(tenant_id, write=False):
        where = (Touchpoint.status == "open") & (Touchpoint.mode == "call")
        calls = await db.paged(Touchpoint.objects_in_tenant().where(where).order_by(
            Touchpoint.due_at), page, per_page)
        total = await Touchpoint.count_in_tenant().where(where)
        callbacks = await Complaint.objects_in_tenant().where(
            Complaint.status == "resolved", Complaint.callback_at.is_null(),
        ).order_by(Complaint.callback_due_at).limit(50)
    return CallList(calls, total, callbacks)


async def record_outcome(tenant_id: uuid.UUID, touchpoint_id: uuid.UUID, outcome: str, note: str,
                         actor: complaints.Actor, now: datetime | None = None,
                         ) -> Touchpoint | None:
    """A CS agent's call outcome; no answer keeps the call open for tomorrow (second
    contact); an issue heard on the call opens a complaint with the agent's note."""
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise invalid("outcome", f"must be one of {', '.join(OUTCOMES)}")
    if len(note) > TEXT_MAX:
        raise invalid("note", f"at most {TEXT_MAX} characters")
    if outcome == "reached_issue" and not note.strip():
        raise invalid("note", "write down the customer's words")
    if actor.role not in complaints.CS_ROLES:
        raise complaints.NotAllowed("only customer service records call outcomes")
    async with tenant_scope(tenant_id):
        row = await Touchpoint.get_in_tenant(touchpoint_id)
        if row is None:
            return None
        if row.status != "open" or row.mode != "call":
            raise complaints.StateError("this call is not on the call list")
        if outcome == "no_answer":
            row.due_at = now + RETRY_AFTER
            await Touchpoint.update_in_tenant({Touchpoint.due_at: row.due_at,
                                               Touchpoint.note: note}).where(
                Touchpoint.id == row.id)
            return row
        row.status, row.outcome, row.note = "done", outcome, note
        row.completed_at, row.completed_by = now, actor.user_id
        await Touchpoint.update_in_tenant({
            Touchpoint.status: "done", Touchpoint.outcome: outcome, Touchpoint.note: note,
            Touchpoint.completed_at: now, Touchpoint.completed_by: actor.user_id,
        }).where(Touchpoint.id == row.id)
        payload = {"touchpoint_id": row.id, "customer_id": row.customer_id, "kind": row.kind,
                   "due_at": row.due_at, "completed_at": now, "outcome": outcome}
        await events.emit("touchpoint.completed", payload)
        await events.emit("callback.completed", {**payload, "kind": "touchpoint",
                                                 "touchpoint_kind": row.kind})
        if outcome == "reached_issue":
            await complaints.open_complaint(row.customer_id, note, source="call", actor=actor,
                                            now=now)
        return row


async def for_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> list[Touchpoint]:
    async with tenant_scope(tenant_id, write=False):
        return await Touchpoint.objects_in_tenant().where(
            Touchpoint.customer_id == customer_id).order_by(Touchpoint.due_at)
