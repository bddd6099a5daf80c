"""Recording answers from the public page and from SMS digits: validation, partial answers,
no double counting, integrity flags, negative feedback → complaint, and the events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from dealerhub.channels import service as channels
from dealerhub.platform import events
from dealerhub.platform.links import LinkInvalid
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers.tables import (
    AnswerRaced,
    invitation_with_answers,
    save_submission,
)
from dealerhub.survey.common import utcnow
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.complaints.tables import Complaint
from dealerhub.survey.integrity import service as integrity
from dealerhub.survey.integrity.service import Submission, flags_for
from dealerhub.survey.messages import QUESTION_TEMPLATE
from dealerhub.survey.questions import service as questions
from dealerhub.survey.questions.schemas import QuestionRead
from dealerhub.survey.results.facts import fact_values
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.fields import FieldError, InvalidInput

CLOSED = ("suppressed", "cancelled", "scheduled")
T = TypeVar("T")


class AlreadyAnswered(Exception):
    """Every question of this invitation has an answer: a reused link."""


@dataclass
class SurveyView:
    tenant_id: uuid.UUID
    invitation: Invitation
    questions: list[QuestionRead]  # still in the bank, in the order sent
    removed: list[str]  # keys removed from the bank after the invitation was sent
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    shares_phone: bool = False  # for the integrity flags

    @property
    def complete(self) -> bool:
        return bool(self.questions) and all(q.key in self.answered for q in self.questions)


async def _view(tenant_id: uuid.UUID, invitation_id: uuid.UUID) -> SurveyView | None:
    """The open survey of an invitation (inside its tenant scope); None when it was never
    sent or was withdrawn."""
    found = await invitation_with_answers(invitation_id)
    if found is None or found.invitation.status in CLOSED:
        return None
    row = found.invitation
    refs = loaded(row.questions, [])
    bank = await questions.by_ids(refs)
    sent = [bank[str(ref["id"])] for ref in refs if str(ref["id"]) in bank]
    live = await questions.active_by_key([q.key for q in sent])
    return SurveyView(tenant_id, row, [q for q in sent if q.key in live],
                      [q.key for q in sent if q.key not in live],
                      {a["question_key"]: a for a in found.answers}, found.shares_phone)


async def open_survey(token: str) -> SurveyView:
    """The survey a link names; raises LinkExpired / LinkInvalid (also for a survey that was
    never sent or was withdrawn)."""
    tenant_id, invitation_id = triggers.read_token(token)
    async with tenant_scope(tenant_id, write=False):
        view = await _view(tenant_id, invitation_id)
    if view is None:
        raise LinkInvalid("this link is not valid")
    return view


def _field(key: str) -> str:
    return f"q_{key}"


def _describe(question: QuestionRead, answer: dict[str, Any]) -> str:
    value = answer["value_text"] if answer["value_text"] is not None else answer["value_int"]
    return f"{question.text_zh} / {question.text_en}: {value}"


async def _react_to_negative(view: SurveyView, new: list[dict[str, Any]], now: datetime) -> None:
    row = view.invitation
    by_key = {q.key: q for q in view.questions}
    negative = [a for a in new if a["negative"] == "y"]
    if row.kind == "confirm" and row.complaint_id is not None:
        verdict = next((a for a in new if a["kind"] == "yes_no"), None)
        if verdict is not None:
            await complaints.confirmation_answered(row.complaint_id, verdict["value_int"] == 1,
                                                   now)
        return
    if not negative:
        return
    await events.emit("feedback.negative", {
        "invitation_id": row.id, "customer_id": row.customer_id,
        "advisor_staff_id": row.advisor_staff_id,
        "question_keys": [a["question_key"] for a in negative], "at": now})
    if await Complaint.count_in_tenant().where(Complaint.invitation_id == row.id):
        return
    words = [a["value_text"] for a in view.answered.values()
             if a["kind"] == "text" and a["value_text"]]
    described = [_describe(by_key[a["question_key"]], a) for a in negative]
    await complaints.open_complaint(
        row.customer_id, "\n".join(words + described), source="survey",
        invitation_id=row.id, concerned_staff_id=row.advisor_staff_id, now=now)


# The service-chain steps the advisor answers for (DOMAIN.md): appointment, reception,
# estimate, care and delivery. Repair is the technicians' (the invitation names only the
# advisor), the overall questions are everyone's.
ADVISOR_STEPS = frozenset({"appointment", "reception", "estimate", "care", "delivery"})
TOP_SCORE = 100


def staff_judgements(advisor_staff_id: uuid.UUID | None, asked: list[QuestionRead],
                     added: list[dict[str, Any]]) -> dict[str, list[uuid.UUID]]:
    """Staff a customer praised (top score on a step they answer for) or criticised (a
    negative answer there), for the staff scores: +1 / −1 per answer event and person."""
    if advisor_staff_id is None:
        return {"praised_staff_ids": [], "criticised_staff_ids": []}
    steps = {q.key: q.step for q in asked}
    mine = [a for a in added if steps.get(a["question_key"]) in ADVISOR_STEPS]
    return {
        "praised_staff_ids": [advisor_staff_id] if any(
            a["score"] == TOP_SCORE and a["negative"] != "y" for a in mine) else [],
        "criticised_staff_ids": [advisor_staff_id] if any(
            a["negative"] == "y" for a in mine) else [],
    }


async def _record(view: SurveyView, raw: dict[str, Any], source: Submission,
                  now: datetime) -> int:
    """Store the answers not given before; returns how many were new."""
    row = view.invitation
    sent = {ref["key"] for ref in loaded(row.questions, [])}
    by_key = {q.key: q for q in view.questions}
    errors: list[FieldError] = []
    new: list[dict[str, Any]] = []
    for key, value in raw.items():
        if key not in sent:
            errors.append(FieldError(_field(key), "is not a question of this survey"))
        elif key not in by_key:
            errors.append(FieldError(_field(key), "this question was removed from the survey"))
        elif value is None or str(value).strip() == "" or key in view.answered:
            continue
        else:
            question = by_key[key]
            try:
                scored = questions.score_answer(question, value, _field(key))
            except InvalidInput as bad:
                errors.extend(bad.errors)
                continue
            new.append({
                "id": uuid.uuid4(), "invitation_id": row.id, "customer_id": row.customer_id,
                "question_id": question.id, "question_key": key,
                "question_version": question.version, "step": question.step,
                "kind": question.kind, "value_int": scored.value_int,
                "value_text": scored.value_text, "score": scored.score,
                "negative": "y" if scored.negative else "", "channel": source.channel,
                "answered_at": now})
    if errors:
        raise InvalidInput(errors)
    if not new:
        return 0
    added = new
    view.answered.update({a["question_key"]: a for a in added})
    all_answers = list(view.answered.values())
    flags = sorted(set(loaded(row.flags, [])) | set(await flags_for(
        row, view.shares_phone, [a["score"] for a in all_answers if a["score"] is not None],
        [a["value_text"] for a in all_answers if a["kind"] == "text" and a["value_text"]],
        source, now)))
    status = "answered" if view.complete else "partial"
    row.status, row.flags = status, flags
    row.answered_at = row.answered_at or (now if status == "answered" else None)
    row.client_ip = source.client_ip[:64] or row.client_ip
    roles = {q.key: q.role for q in view.questions}
    scores = {a["question_key"]: a["score"] for a in added if a["score"] is not None}
    review = await integrity.review_of(row.id) if flags else None
    flagged = bool(flags) and not integrity.counts(review, flags)
    fact = None if row.kind == "confirm" else await fact_values(
        row.id, [{**a, "role": roles.get(a["question_key"], "")} for a in all_answers],
        flagged, now)
    # answers, event, invitation and fact in one statement (one round trip on PostgreSQL)
    await save_submission(row, added, events.outbox_values("survey.answered", {
        "invitation_id": row.id, "customer_id": row.customer_id, "kind": row.kind,
        "advisor_staff_id": row.advisor_staff_id, "channel": source.channel,
        "scores": scores, "complete": status == "answered", "flagged": flagged,
        "csat": next((a["value_int"] for a in added if roles.get(a["question_key"]) == "csat"),
                     None),
        "nps": next((a["value_int"] for a in added if roles.get(a["question_key"]) == "nps"),
                    None),
        **staff_judgements(row.advisor_staff_id, view.questions, added),
        "answered_at": now}), fact)
    if flags and row.kind != "confirm":
        await integrity.queue_for_review(row, all_answers, flags, review, now)
    await _react_to_negative(view, added, now)
    return len(new)


async def submit(token: str, raw: dict[str, Any], source: Submission,
                 now: datetime | None = None) -> SurveyView:
    """Answers from the public page. Raises LinkInvalid/LinkExpired, AlreadyAnswered for a
    reused link, InvalidInput naming each bad field (nothing is stored then)."""
    now = now or utcnow()
    tenant_id, invitation_id = triggers.read_token(token)

    async def attempt() -> SurveyView:
        async with tenant_scope(tenant_id):
            view = await _view(tenant_id, invitation_id)
            if view is None:
                raise LinkInvalid("this link is not valid")
            if view.complete:
                raise AlreadyAnswered("this survey has already been answered")
            await _record(view, raw, source, now)
            return view

    return await _once_more_if_raced(attempt)


async def _once_more_if_raced(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a recording transaction; when another submission of the same invitation stored
    an answer first (the unique answer key refused ours, everything rolled back), run it
    again on the answers now stored, so nothing is counted twice."""
    try:
        return await attempt()
    except AnswerRaced:
        return await attempt()


async def record_digit(tenant_id: uuid.UUID, invitation_id: uuid.UUID, digit: int,
                       now: datetime | None = None) -> str:
    """An SMS reply: the digit answers the first unanswered question a digit can answer;
    the next such question, if any, goes out by SMS. Returns what happened."""
    now = now or utcnow()

    async def attempt() -> str:
        async with tenant_scope(tenant_id):
            view = await _view(tenant_id, invitation_id)
            if view is None:
                return "no open survey"
            row = view.invitation
            pending = [q for q in view.questions
                       if q.kind in triggers.SMS_KINDS and q.key not in view.answered]
            if not pending:
                return "already answered"
            try:
                await _record(view, {pending[0].key: digit}, Submission("sms"), now)
            except InvalidInput as bad:
                return f"refused: {bad}"
            if len(pending) > 1:
                await channels.enqueue_message(
                    tenant_id, row.customer_id, "service", QUESTION_TEMPLATE,
                    triggers.question_context(pending[1]),
                    related={"survey_invitation_id": str(row.id)},
                    idempotency_key=f"survey-sms:{row.id}:{pending[1].key}", now=now)
            return "recorded"

    return await _once_more_if_raced(attempt)
