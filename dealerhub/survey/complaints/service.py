"""Complaints: opened from negative feedback or recorded by CS from a call, with a
responsible person and SLA deadlines (interim answer in 3 days, a call within 2 days after
resolution), general-manager review, escalation of major quality complaints, and closing
only when the customer confirms the resolution.

Every state change and SLA timestamp is an event for scoring. The CS record (the verbatim
words, the callback, the confirmation) cannot be edited by the service staff concerned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dealerhub.channels import service as channels
from dealerhub.platform import db, events
from dealerhub.platform.config import get_settings
from dealerhub.platform.directory import regional_managers
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import require_tenant, tenant_scope
from dealerhub.survey.common import TEXT_MAX, each_dealer, invalid, utcnow
from dealerhub.survey.complaints.tables import (
    SEVERITIES,
    SOURCES,
    Alert,
    Complaint,
    ComplaintLog,
    Escalation,
)
from dealerhub.survey.messages import (
    ALERT_TEMPLATE,
    ESCALATION_TEMPLATE,
    REGION_ESCALATION_TEMPLATE,
)
from dealerhub.tenants.customers import service as customers
from dealerhub.tenants.staff import service as staff_service
from dealerhub.tenants.staff.tables import Staff

INTERIM_WITHIN = timedelta(days=3)
CALLBACK_WITHIN = timedelta(days=2)
CONFIRM_QUESTION = "complaint.resolved_ok"
CS_ROLES = frozenset({"cs_agent", "dealer_admin"})
SERVICE_ROLES = frozenset({"service_advisor", "dealer_admin"})
OPEN_STATES = ("open", "interim_answered", "reopened")


class NotAllowed(Exception):
    """The caller may not make this change (the message says why)."""


class StateError(ValueError):
    """The complaint is not in a state that allows this change."""


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    role: str


def _sla_payload(row: Complaint) -> dict[str, Any]:
    return {"complaint_id": row.id, "customer_id": row.customer_id, "source": row.source,
            "severity": row.severity, "status": row.status, "opened_at": row.opened_at,
            "interim_due_at": row.interim_due_at,
            "interim_answered_at": row.interim_answered_at, "resolved_at": row.resolved_at,
            "callback_due_at": row.callback_due_at, "callback_at": row.callback_at,
            "confirmed_at": row.confirmed_at, "escalated_at": row.escalated_at,
            "reviewed_at": row.gm_reviewed_at, "recovered": row.recovered,
            "responsible_staff_id": row.responsible_staff_id,
            "concerned_staff_id": row.concerned_staff_id}


async def _log(row: Complaint, action: str, actor: Actor | None, note: str, at: datetime) -> None:
    await ComplaintLog.insert_in_tenant(ComplaintLog(
        complaint_id=row.id, at=at, action=action,
        actor_user_id=actor.user_id if actor else None, note=note[:TEXT_MAX]))
    await events.emit(f"complaint.{action}", _sla_payload(row))


async def _staff_of_kind(kind: str) -> list[Staff]:
    return [m for m in await staff_service.list_staff(require_tenant(), kind) if m.active]


async def _notify(kind: str, template: str, row: Complaint, text: str, staff_kinds: tuple[str, ...],
                  now: datetime) -> None:
    """A portal notification plus an urgent SMS and e-mail to every active staff member of
    those kinds (the phone of the staff record, the e-mail of its user)."""
    await Alert.insert_in_tenant(Alert(kind=kind, customer_id=row.customer_id,
                                       complaint_id=row.id, invitation_id=row.invitation_id,
                                       text=text[:500], created_at=now))
    tid = require_tenant()
    context = {"text": text[:300],
               "complaint_url": f"{get_settings().public_base_url}/complaints/{row.id}"}
    for staff_kind in staff_kinds:
        for member in await _staff_of_kind(staff_kind):
            await channels.enqueue_staff_message(tid, template, context, staff_id=member.id,
                                                 urgent=True, now=now,
                                                 related={"complaint_id": str(row.id)})


async def _tell_region(row: Complaint, *, dealer_name: str, now: datetime) -> None:
    """The region's OEM managers hear which dealer escalated, never the customer's words
    (headquarters sees no customer data)."""
    tid = require_tenant()
    context = {"dealer_name": dealer_name,
               "escalations_url": f"{get_settings().public_base_url}/hq/survey"}
    for user_id in await regional_managers(tid):
        await channels.enqueue_staff_message(tid, REGION_ESCALATION_TEMPLATE, context,
                                             user_id=user_id, urgent=True, now=now,
                                             related={"complaint_id": str(row.id)})


async def _escalate(row: Complaint, now: datetime) -> None:
    row.escalated_at = now
    await Complaint.update_in_tenant({Complaint.escalated_at: now}).where(Complaint.id == row.id)
    dealer = await Dealer.select(Dealer.region, Dealer.name).where(
        Dealer.id == require_tenant()).first()
    await Escalation.insert(Escalation(tenant_id=require_tenant(),
                                       region_id=dealer["region"] if dealer else None,
                                       complaint_id=row.id, escalated_at=now))
    await _notify("escalation", ESCALATION_TEMPLATE, row, row.verbatim,
                  ("general_manager", "service_manager"), now)
    await _tell_region(row, dealer_name=dealer["name"] if dealer else "", now=now)
    await _log(row, "escalated", None, "major quality → general manager and OEM region", now)


async def open_complaint(
    customer_id: uuid.UUID, verbatim: str, *, source: str, severity: str = "normal",
    invitation_id: uuid.UUID | None = None, concerned_staff_id: uuid.UUID | None = None,
    actor: Actor | None = None, now: datetime | None = None,
) -> Complaint:
    """Inside the tenant scope: open, assign the service manager, alert, escalate if major."""
    now = now or utcnow()
    verbatim = verbatim.strip()
    if not verbatim:
        raise invalid("verbatim", "record the customer's words")
    if len(verbatim) > TEXT_MAX:
        raise invalid("verbatim", f"at most {TEXT_MAX} characters")
    if severity not in SEVERITIES:
        raise invalid("severity", f"must be one of {', '.join(SEVERITIES)}")
    if source not in SOURCES:
        raise invalid("source", f"must be one of {', '.join(SOURCES)}")
    managers = await _staff_of_kind("service_manager")
    row = Complaint(
        customer_id=customer_id, invitation_id=invitation_id, source=source, severity=severity,
        verbatim=verbatim, status="open", concerned_staff_id=concerned_staff_id,
        responsible_staff_id=managers[0].id if managers else None,
        recorded_by=actor.user_id if actor else None, opened_at=now,
        interim_due_at=now + INTERIM_WITHIN)
    await Complaint.insert_in_tenant(row)
    await _log(row, "opened", actor, source, now)
    await _notify("negative_feedback" if source == "survey" else "complaint", ALERT_TEMPLATE, row,
                  verbatim, ("service_manager",), now)
    if severity == "major_quality":
        await _escalate(row, now)
    return row


async def record_from_call(tenant_id: uuid.UUID, customer_id: uuid.UUID, verbatim: str,
                           severity: str, actor: Actor) -> Complaint:
    """A CS agent records a complaint heard on a call."""
    if actor.role not in CS_ROLES:
        raise NotAllowed("only customer service records complaints from calls")
    async with tenant_scope(tenant_id):
        if await customers.contact_profile(tenant_id, customer_id) is None:
            raise invalid("customer_id", "no such customer")
        return await open_complaint(customer_id, verbatim, source="call", severity=severity,
                                    actor=actor)


async def _concerned_user(row: Complaint) -> uuid.UUID | None:
    if row.concerned_staff_id is None:
        return None
    staff = await staff_service.get_staff(require_tenant(), row.concerned_staff_id)
    return staff.user_id if staff else None


async def _load_for(row_id: uuid.UUID, actor: Actor, cs_record: bool) -> Complaint | None:
    row = await Complaint.get_in_tenant(row_id)
    if row is None:
        return None
    allowed = CS_ROLES if cs_record else SERVICE_ROLES | CS_ROLES
    if actor.role not in allowed:
        raise NotAllowed("your role may not change this part of the complaint")
    if cs_record and actor.user_id is not None and actor.user_id == await _concerned_user(row):
        raise NotAllowed("the CS record cannot be edited by the staff it concerns")
    return row


async def interim_answer(tenant_id: uuid.UUID, complaint_id: uuid.UUID, note: str, actor: Actor,
                         now: datetime | None = None) -> Complaint | None:
    """The interim decision told to the customer (due within 3 days of opening)."""
    now = now or utcnow()
    async with tenant_scope(tenant_id):
        row = await _load_for(complaint_id, actor, cs_record=False)
        if row is None:
            return None
        if row.status not in ("open", "reopened"):
            raise StateError("an interim answer is given to an open complaint")
        _require_note(note)
        row.status, row.interim_answered_at = "interim_answered", now
        await Complaint.update_in_tenant({Complaint.status: row.status,
                                          Complaint.interim_answered_at: now}).where(
            Complaint.id == row.id)
        await _log(row, "interim_answered", actor, note, now)
        return row


def _require_note(note: str, field: str = "note") -> None:
    if not note.strip():
        raise invalid(field, "is required")
    if len(note) > TEXT_MAX:
        raise invalid(field, f"at most {TEXT_MAX} characters")


async def resolve(tenant_id: uuid.UUID, complaint_id: uuid.UUID, resolution: str, actor: Actor,
                  now: datetime | None = None) -> Complaint | None:
    """Resolved: CS must call within 2 days and the customer gets the one-question
    confirmation survey; the complaint closes only when the customer confirms."""
    from dealerhub.survey.triggers import service as triggers

    now = now or utcnow()
    async with tenant_scope(tenant_id):
        row = await _load_for(complaint_id, actor, cs_record=False)
        if row is None:
            return None
        if row.status not in OPEN_STATES:
            raise StateError("this complaint is already resolved")
        _require_note(resolution, "resolution")
        confirm = await triggers.create_direct(row.customer_id, "confirm", [CONFIRM_QUESTION],
                                               now, complaint_id=row.id)
        row.status, row.resolved_at, row.resolution = "resolved", now, resolution
        row.callback_due_at, row.confirm_invitation_id = now + CALLBACK_WITHIN, confirm.id
        await Complaint.update_in_tenant({
            Complaint.status: "resolved", Complaint.resolved_at: now,
            Complaint.resolution: resolution, Complaint.callback_due_at: row.callback_due_at,
            Complaint.confirm_invitation_id: confirm.id, Complaint.callback_at: None,
        }).where(Complaint.id == row.id)
        await _log(row, "resolved", actor, resolution, now)
        return row


async def record_callback(tenant_id: uuid.UUID, complaint_id: uuid.UUID, satisfied: bool | None,
                          note: str, actor: Actor, now: datetime | None = None) -> Complaint | None:
    """CS's call after resolution; a satisfied customer on the call confirms it too."""
    now = now or utcnow()
    async with tenant_scope(tenant_id):
        row = await _load_for(complaint_id, actor, cs_record=True)
        if row is None:
            return None
        if row.status != "resolved":
            raise StateError("the callback follows the resolution")
        row.callback_at = now
        await Complaint.update_in_tenant({Complaint.callback_at: now}).where(
            Complaint.id == row.id)
        await ComplaintLog.insert_in_tenant(ComplaintLog(
            complaint_id=row.id, at=now, action="callback", actor_user_id=actor.user_id,
            note=note[:TEXT_MAX]))
        await events.emit("callback.completed", {**_sla_payload(row), "kind": "complaint",
                                                 "satisfied": satisfied})
        if satisfied is not None:
            await customer_confirmed(row, satisfied, now, actor)
        return row


async def customer_confirmed(row: Complaint, satisfied: bool, now: datetime,
                             actor: Actor | None = None) -> None:
    """The customer's verdict on the resolution: yes closes it (recovered), no reopens it."""
    if row.status != "resolved":
        return
    if satisfied:
        row.status, row.confirmed_at, row.recovered = "confirmed", now, True
        await Complaint.update_in_tenant({Complaint.status: "confirmed",
                                          Complaint.confirmed_at: now,
                                          Complaint.recovered: True}).where(Complaint.id == row.id)
        await Escalation.update({Escalation.closed_at: now}).where(
            Escalation.tenant_id == require_tenant(), Escalation.complaint_id == row.id)
        await _log(row, "confirmed", actor, "customer confirmed the resolution", now)
    else:
        row.status, row.recovered = "reopened", False
        row.interim_due_at = now + INTERIM_WITHIN
        await Complaint.update_in_tenant({Complaint.status: "reopened", Complaint.recovered: False,
                                          Complaint.interim_due_at: row.interim_due_at,
                                          Complaint.interim_answered_at: None}).where(
            Complaint.id == row.id)
        await _log(row, "reopened", actor, "customer is not satisfied with the resolution", now)


async def confirmation_answered(complaint_id: uuid.UUID, satisfied: bool, now: datetime) -> None:
    """The confirmation survey was answered (inside the tenant scope)."""
    row = await Complaint.get_in_tenant(complaint_id)
    if row is not None:
        await customer_confirmed(row, satisfied, now)


async def review(tenant_id: uuid.UUID, complaint_id: uuid.UUID, note: str, actor: Actor,
                 now: datetime | None = None) -> Complaint | None:
    """The general manager's review (dealer admin)."""
    now = now or utcnow()
    if actor.role != "dealer_admin":
        raise NotAllowed("only the general manager reviews complaints")
    async with tenant_scope(tenant_id):
        row = await Complaint.get_in_tenant(complaint_id)
        if row is None:
            return None
        row.gm_reviewed_at, row.gm_reviewed_by = now, actor.user_id
        await Complaint.update_in_tenant({Complaint.gm_reviewed_at: now,
                                          Complaint.gm_reviewed_by: actor.user_id}).where(
            Complaint.id == row.id)
        await _log(row, "reviewed", actor, note, now)
        return row


async def mark_major(tenant_id: uuid.UUID, complaint_id: uuid.UUID, actor: Actor,
                     now: datetime | None = None) -> Complaint | None:
    """Reclassify as a major quality complaint: escalates at once."""
    now = now or utcnow()
    async with tenant_scope(tenant_id):
        row = await _load_for(complaint_id, actor, cs_record=False)
        if row is None:
            return None
        if row.severity != "major_quality":
            row.severity = "major_quality"
            await Complaint.update_in_tenant({Complaint.severity: row.severity}).where(
                Complaint.id == row.id)
            await _escalate(row, now)
        return row


async def check_slas_for_dealer(tenant_id: uuid.UUID, now: datetime) -> int:
    """Mark missed deadlines once each (an event and an alert per breach)."""
    breached = 0
    async with tenant_scope(tenant_id):
        checks = (
            ("interim", Complaint.interim_breached_at, Complaint.status.is_in(["open", "reopened"])
             & (Complaint.interim_due_at < now)),
            ("callback", Complaint.callback_breached_at, (Complaint.status == "resolved")
             & Complaint.callback_at.is_null() & (Complaint.callback_due_at < now)),
        )
        for sla, column, condition in checks:
            query = Complaint.objects_in_tenant().where(condition & column.is_null())
            query = db.skip_locked(query, Complaint)
            for row in await query:
                await Complaint.update_in_tenant({column: now}).where(Complaint.id == row.id)
                await Alert.insert_in_tenant(Alert(
                    kind=f"sla_{sla}", customer_id=row.customer_id, complaint_id=row.id,
                    text=row.verbatim[:200], created_at=now))
                await events.emit("complaint.sla_breached", {**_sla_payload(row), "sla": sla,
                                                             "breached_at": now})
                breached += 1
    return breached


async def check_slas(now: datetime | None = None) -> int:
    return await each_dealer(check_slas_for_dealer, now)


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    rows: list[Complaint]
    total: int
    recovery_rate: float | None  # confirmed / (confirmed + reopened) among resolved ones
    open_count: int


async def board(tenant_id: uuid.UUID, *, status: str | None = None, page: int = 1,
                per_page: int = 25) -> Board:
    async with tenant_scope(tenant_id, write=False):
        query = Complaint.objects_in_tenant().order_by(Complaint.opened_at, ascending=False)
        count = Complaint.count_in_tenant()
        if status == "open":
            query = query.where(Complaint.status.is_in(list(OPEN_STATES)))
            count = count.where(Complaint.status.is_in(list(OPEN_STATES)))
        elif status:
            query, count = query.where(Complaint.status == status), count.where(
                Complaint.status == status)
        rows = await db.paged(query, page, per_page)
        total = await count
        recovered = await Complaint.count_in_tenant().where(Complaint.recovered == True)  # noqa: E712
        judged = await Complaint.count_in_tenant().where(Complaint.recovered.is_not_null())
        open_count = await Complaint.count_in_tenant().where(
            Complaint.status.is_in(list(OPEN_STATES)))
    return Board(rows, total, recovered / judged if judged else None, open_count)


async def get_complaint(tenant_id: uuid.UUID, complaint_id: uuid.UUID,
                        ) -> tuple[Complaint, list[ComplaintLog]] | None:
    async with tenant_scope(tenant_id, write=False):
        row = await Complaint.get_in_tenant(complaint_id)
        if row is None:
            return None
        log = await ComplaintLog.objects_in_tenant().where(
            ComplaintLog.complaint_id == row.id).order_by(ComplaintLog.at)
    return row, log


async def alerts(tenant_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    async with tenant_scope(tenant_id, write=False):
        return await Alert.objects_in_tenant().order_by(Alert.created_at,
                                                         ascending=False).limit(limit)


async def unread_alerts(tenant_id: uuid.UUID) -> int:
    async with tenant_scope(tenant_id, write=False):
        return await Alert.count_in_tenant().where(Alert.read_at.is_null())


async def mark_alerts_read(tenant_id: uuid.UUID, now: datetime | None = None) -> None:
    async with tenant_scope(tenant_id):
        await Alert.update_in_tenant({Alert.read_at: now or utcnow()}).where(
            Alert.read_at.is_null())


async def escalations(region_id: uuid.UUID | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The OEM's queue of major quality complaints (no customer data)."""
    query = Escalation.select(Escalation.all_columns(), Escalation.tenant_id.as_alias("dealer_id"))
    if region_id is not None:
        query = query.where(Escalation.region_id == region_id)
    rows = await query.order_by(Escalation.escalated_at, ascending=False).limit(limit)
    names = {d["id"]: d["name"] for d in await Dealer.select(Dealer.id, Dealer.name)}
    return [{**row, "dealer_name": names.get(row["tenant_id"], "")} for row in rows]


