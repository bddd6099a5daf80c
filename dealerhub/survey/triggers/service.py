"""Quick-review triggers: a business event creates an invitation (or records why not),
and the scheduler sends it through the channels once its delay has passed."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dealerhub.channels import service as channels
from dealerhub.platform import db, events
from dealerhub.platform.config import get_settings
from dealerhub.platform.links import LinkInvalid, read_link, sign_link
from dealerhub.platform.tenancy import require_tenant, tenant_scope, transaction
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.common import as_uuid, each_dealer, utcnow
from dealerhub.survey.messages import INVITATION_TEMPLATE
from dealerhub.survey.questions import service as questions
from dealerhub.survey.questions.schemas import QuestionRead
from dealerhub.survey.triggers.sampling import pick_questions
from dealerhub.survey.triggers.tables import Invitation, TriggerRule
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.customers import service as customers

RECONTACT = timedelta(days=14)
NO_REPEAT = timedelta(days=90)
LINK_PURPOSE = "survey"
LINK_MAX_AGE_SECONDS = 30 * 86400
CUSTOMER_BASE = "/c/survey"
CLAIM_BATCH = 200
CONTACTED = ("sent", "partial", "answered")
SMS_KINDS = ("rating", "nps", "yes_no")


@dataclass(frozen=True)
class RuleWrite:
    name: str
    event_type: str
    pool: list[tuple[str, int]]
    delay_minutes: int = 60
    response_quota: int | None = None


async def save_rule(data: RuleWrite) -> TriggerRule:
    row = TriggerRule(name=data.name, event_type=data.event_type,
                      pool=[{"key": k, "weight": w} for k, w in data.pool],
                      delay_minutes=data.delay_minutes, response_quota=data.response_quota)
    async with transaction():
        await TriggerRule.insert(row)
    return row


async def rules_for(event_type: str) -> list[TriggerRule]:
    return await TriggerRule.objects().where(
        TriggerRule.event_type == event_type, TriggerRule.active == True  # noqa: E712
    ).order_by(TriggerRule.created_at).output(load_json=True)


def survey_token(tenant_id: uuid.UUID, invitation_id: uuid.UUID) -> str:
    return sign_link(LINK_PURPOSE, {"t": str(tenant_id), "i": str(invitation_id)})


def survey_url(tenant_id: uuid.UUID, invitation_id: uuid.UUID) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}{CUSTOMER_BASE}/{survey_token(tenant_id, invitation_id)}"


def read_token(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The dealer and invitation a link names; raises LinkExpired / LinkInvalid."""
    data = read_link(LINK_PURPOSE, token, LINK_MAX_AGE_SECONDS)
    tenant_id, invitation_id = as_uuid(data.get("t")), as_uuid(data.get("i"))
    if tenant_id is None or invitation_id is None:
        raise LinkInvalid("this link is not valid")
    return tenant_id, invitation_id


async def _refusal(customer_id: uuid.UUID, now: datetime,
                   exclude: uuid.UUID | None = None) -> str | None:
    """Why this customer may not get a survey now (consent, erasure, recontact), or None."""
    profile = await customers.contact_profile(require_tenant(), customer_id)
    if profile is None or profile.erased:
        return "customer erased or unknown"
    if any(granted is False for granted in (profile.consents.get("service") or {}).values()):
        return "no consent for service contact"
    query = Invitation.count_in_tenant().where(
        Invitation.customer_id == customer_id,
        ((Invitation.status.is_in(list(CONTACTED)) & (Invitation.sent_at >= now - RECONTACT))
         | (Invitation.status == "scheduled")))
    if exclude is not None:
        query = query.where(Invitation.id != exclude)
    if await query:
        return "recontact limit: a survey within 14 days"
    return None


async def _quota_reached(rule: TriggerRule) -> bool:
    if rule.response_quota is None:
        return False
    answered = await Invitation.count_in_tenant().where(
        Invitation.rule_id == rule.id, Invitation.status.is_in(["partial", "answered"]))
    return answered >= rule.response_quota


async def recently_answered_keys(customer_id: uuid.UUID, now: datetime) -> set[str]:
    rows = await Answer.select_in_tenant(Answer.question_key).where(
        Answer.customer_id == customer_id, Answer.answered_at >= now - NO_REPEAT)
    return {row["question_key"] for row in rows}


def question_refs(chosen: list[QuestionRead]) -> list[dict[str, Any]]:
    return [{"id": str(q.id), "key": q.key, "version": q.version, "local": q.local}
            for q in chosen]


async def trigger(event: events.Event, rng: random.Random | None = None,
                  now: datetime | None = None) -> Invitation | None:
    """Inside the event's tenant scope: the first active rule for the event type makes one
    invitation, scheduled after the rule's delay or suppressed with the reason."""
    customer_id = as_uuid(event.payload.get("customer_id"))
    if customer_id is None:
        return None
    rules = await rules_for(event.event_type)
    if not rules:
        return None
    rule, now, rng = rules[0], now or utcnow(), rng or random.Random()
    pool = [(str(item["key"]), int(item.get("weight", 1))) for item in loaded(rule.pool, [])]
    active = await questions.active_by_key([key for key, _ in pool])
    pool = [(key, weight * active[key].weight) for key, weight in pool if key in active]
    chosen = pick_questions(pool, await recently_answered_keys(customer_id, now), rng)
    reason = await _refusal(customer_id, now)
    if reason is None and await _quota_reached(rule):
        reason = "response quota reached"
    if reason is None and not chosen:
        reason = "no eligible questions (all answered in the last 90 days)"
    row = Invitation(
        customer_id=customer_id, kind="quick", rule_id=rule.id, trigger_event=event.event_type,
        source_event_id=event.id, questions=question_refs([active[key] for key in chosen]),
        advisor_staff_id=as_uuid(event.payload.get("advisor_staff_id")),
        repair_order_id=as_uuid(event.payload.get("repair_order_id")),
        status="suppressed" if reason else "scheduled", reason=reason or "",
        due_at=now + timedelta(minutes=rule.delay_minutes), created_at=now)
    await Invitation.insert_in_tenant(row)
    return row


async def create_direct(customer_id: uuid.UUID, kind: str, keys: list[str], now: datetime,
                        complaint_id: uuid.UUID | None = None,
                        repair_order_id: uuid.UUID | None = None) -> Invitation:
    """An invitation not chosen by sampling (a touchpoint survey, a complaint's confirmation
    question), due at once; consent still applies, the 14-day limit only to touchpoints."""
    active = await questions.active_by_key(keys)
    reason = await _refusal(customer_id, now)
    if kind == "confirm" and reason and reason.startswith("recontact"):
        reason = None
    if reason is None and not active:
        reason = "question no longer in the bank"
    row = Invitation(
        customer_id=customer_id, kind=kind, questions=question_refs(
            [active[k] for k in keys if k in active]),
        complaint_id=complaint_id, repair_order_id=repair_order_id,
        status="suppressed" if reason else "scheduled", reason=reason or "", due_at=now,
        created_at=now)
    await Invitation.insert_in_tenant(row)
    return row


def sms_questions(refs: list[dict[str, Any]], bank: dict[str, QuestionRead]) -> list[QuestionRead]:
    """The questions of an invitation a digit can answer, in order."""
    return [bank[str(r["id"])] for r in refs if str(r["id"]) in bank
            and bank[str(r["id"])].kind in SMS_KINDS]


def question_context(question: QuestionRead | None) -> dict[str, Any]:
    if question is None:
        return {"question_zh": "", "question_en": "", "scale": ""}
    low, high = questions.RANGES[question.kind]
    return {"question_zh": question.text_zh, "question_en": question.text_en,
            "scale": f"{low}-{high}"}


async def send_invitation(row: Invitation, now: datetime) -> str:
    """Send one scheduled invitation; returns its new status."""
    tid = require_tenant()
    exclude_recontact = row.kind == "confirm"
    reason = await _refusal(row.customer_id, now, exclude=row.id)
    if reason and exclude_recontact and reason.startswith("recontact"):
        reason = None
    if reason is None and row.rule_id is not None:
        rule = await TriggerRule.objects().where(TriggerRule.id == row.rule_id).first()
        if rule is not None and await _quota_reached(rule):
            reason = "response quota reached"
    refs = loaded(row.questions, [])
    if reason is None:
        bank = await questions.by_ids(refs)
        live = {q.key for q in (await questions.active_by_key([q.key for q in bank.values()])
                                ).values()}
        if not any(q.key in live for q in bank.values()):
            reason = "question removed from the bank"
    if reason is not None:
        await Invitation.update_in_tenant({Invitation.status: "suppressed",
                                           Invitation.reason: reason}).where(
            Invitation.id == row.id)
        return "suppressed"
    first = next(iter(sms_questions(refs, bank)), None)
    message = await channels.enqueue_message(
        tid, row.customer_id, "service", INVITATION_TEMPLATE,
        {"url": survey_url(tid, row.id), **question_context(first)},
        related={"survey_invitation_id": str(row.id)},
        idempotency_key=f"survey-invitation:{row.id}", now=now)
    status = "sent" if message.status != "suppressed" else "suppressed"
    await Invitation.update_in_tenant({
        Invitation.status: status, Invitation.sent_at: now, Invitation.message_id: message.id,
        Invitation.reason: message.reason if status == "suppressed" else "",
    }).where(Invitation.id == row.id)
    if status == "sent":
        await events.emit("survey.invited", {
            "invitation_id": row.id, "customer_id": row.customer_id, "kind": row.kind,
            "trigger_event": row.trigger_event, "advisor_staff_id": row.advisor_staff_id,
            "question_keys": [r["key"] for r in refs], "invited_at": now})
    return status


async def claim_due_for_dealer(tenant_id: uuid.UUID, now: datetime) -> int:
    sent = 0
    async with tenant_scope(tenant_id):
        query = Invitation.objects_in_tenant().where(
            Invitation.status == "scheduled", Invitation.due_at <= now,
        ).order_by(Invitation.due_at).limit(CLAIM_BATCH).output(load_json=True)
        query = db.skip_locked(query, Invitation)
        for row in await query:
            sent += await send_invitation(row, now) == "sent"
    return sent


async def claim_due(now: datetime | None = None) -> int:
    return await each_dealer(claim_due_for_dealer, now)
