"""The question bank: national questions (headquarters), a dealer's local questions,
versioning, and scoring an answer to a question."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from dealerhub.platform.tenancy import tenant_scope, transaction
from dealerhub.survey.common import TEXT_MAX, invalid
from dealerhub.survey.questions.schemas import QuestionRead, QuestionWrite
from dealerhub.survey.questions.tables import KINDS, ROLES, STEPS, LocalQuestion, Question
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.fields import FieldError, InvalidInput

RANGES = {"rating": (1, 5), "nps": (0, 10), "yes_no": (0, 1)}
BANK_CACHE_SECONDS = 10.0  # another process's edit to the national bank shows within this
NEGATIVE_AT_OR_BELOW = {"rating": 2, "nps": 6, "yes_no": 0}


@dataclass(frozen=True)
class Scored:
    value_int: int | None
    value_text: str | None
    score: int | None  # 0–100
    negative: bool


@dataclass
class _Bank:
    loaded_at: float
    by_id: dict[str, QuestionRead]
    active: dict[str, QuestionRead]


_bank: _Bank | None = None


async def _national_bank() -> _Bank:
    """Every national question, read at most every few seconds: answering a survey reads the
    bank on every submission, and it is a few dozen rows that rarely change."""
    global _bank
    if _bank is None or time.monotonic() - _bank.loaded_at > BANK_CACHE_SECONDS:
        rows = [read(row, local=False) for row in await Question.select()]
        _bank = _Bank(time.monotonic(), {str(q.id): q for q in rows},
                      {q.key: q for q in rows if q.status == "active"})
    return _bank


def forget_cached_bank() -> None:
    global _bank
    _bank = None


def read(row: Question | LocalQuestion | dict[str, Any], local: bool) -> QuestionRead:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return QuestionRead(
        id=get("id"), key=get("key"), version=get("version"), kind=get("kind"),
        step=get("step"), role=get("role") or "", text_zh=get("text_zh"), text_en=get("text_en"),
        choices=list(loaded(get("choices"), [])), weight=get("weight"), status=get("status"),
        local=local)


def _check(data: QuestionWrite) -> list[dict[str, Any]]:
    errors = []
    if data.kind not in KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    if data.step not in STEPS:
        errors.append(FieldError("step", f"must be one of {', '.join(STEPS)}"))
    if data.role not in ROLES:
        errors.append(FieldError("role", "must be empty, csat or nps"))
    elif data.role == "nps" and data.kind != "nps":
        errors.append(FieldError("role", "the NPS question must be of kind nps"))
    elif data.role == "csat" and data.kind != "rating":
        errors.append(FieldError("role", "the CSAT question must be of kind rating"))
    if data.kind == "choice" and len(data.choices) < 2:
        errors.append(FieldError("choices", "a choice question needs at least 2 options"))
    if errors:
        raise InvalidInput(errors)
    return [{"value": c.value, "zh": c.zh, "en": c.en, "negative": c.negative}
            for c in data.choices]


def _values(data: QuestionWrite, version: int) -> dict[str, Any]:
    return {"key": data.key, "version": version, "kind": data.kind, "step": data.step,
            "role": data.role, "text_zh": data.text_zh, "text_en": data.text_en,
            "choices": _check(data), "weight": data.weight, "status": "active"}


async def save_national(data: QuestionWrite) -> QuestionRead:
    """Author a national question, or revise it: a revision retires the active version and
    adds the next one, so answers to the old wording keep pointing at it."""
    async with transaction():
        latest = await Question.objects().where(Question.key == data.key).order_by(
            Question.version, ascending=False).first()
        if latest is not None:
            await Question.update({Question.status: "retired"}).where(Question.key == data.key)
        row = Question(**_values(data, latest.version + 1 if latest else 1))
        await Question.insert(row)
    forget_cached_bank()
    return read(row, local=False)


async def save_local(tenant_id: uuid.UUID, data: QuestionWrite) -> QuestionRead:
    """A dealer's own question; its key lives beside the national keys, prefixed `local.`."""
    if not data.key.startswith("local."):
        raise invalid("key", "a dealer's question key starts with 'local.'")
    async with tenant_scope(tenant_id):
        latest = await LocalQuestion.objects_in_tenant().where(
            LocalQuestion.key == data.key).order_by(LocalQuestion.version, ascending=False).first()
        if latest is not None:
            await LocalQuestion.update_in_tenant({LocalQuestion.status: "retired"}).where(
                LocalQuestion.key == data.key)
        (row,) = await LocalQuestion.insert_in_tenant(
            LocalQuestion(**_values(data, latest.version + 1 if latest else 1)))
    return read(row, local=True)


async def retire_national(key: str) -> int:
    async with transaction():
        rows = await Question.update({Question.status: "retired"}).where(
            Question.key == key, Question.status == "active").returning(Question.id)
    forget_cached_bank()
    return len(rows)


async def retire_local(tenant_id: uuid.UUID, question_id: uuid.UUID) -> QuestionRead | None:
    async with tenant_scope(tenant_id):
        row = await LocalQuestion.get_in_tenant(question_id)
        if row is None:
            return None
        await LocalQuestion.update_in_tenant({LocalQuestion.status: "retired"}).where(
            LocalQuestion.id == question_id)
        row.status = "retired"
    return read(row, local=True)


async def list_national(active_only: bool = True) -> list[QuestionRead]:
    query = Question.select().order_by(Question.step).order_by(Question.key).order_by(
        Question.version)
    if active_only:
        query = query.where(Question.status == "active")
    return [read(row, local=False) for row in await query]


async def list_local(tenant_id: uuid.UUID, active_only: bool = True) -> list[QuestionRead]:
    async with tenant_scope(tenant_id, write=False):
        query = LocalQuestion.select_in_tenant().order_by(LocalQuestion.key)
        if active_only:
            query = query.where(LocalQuestion.status == "active")
        rows = await query
    return [read(row, local=True) for row in rows]


async def active_by_key(keys: list[str]) -> dict[str, QuestionRead]:
    """The active version of each key, national or (inside a tenant scope) local."""
    if not keys:
        return {}
    active = (await _national_bank()).active
    found = {key: active[key] for key in keys if key in active}
    local_keys = [key for key in keys if key.startswith("local.")]
    if local_keys:
        for row in await LocalQuestion.select_in_tenant().where(
                LocalQuestion.key.is_in(local_keys), LocalQuestion.status == "active"):
            found[row["key"]] = read(row, local=True)
    return found


async def by_ids(refs: list[dict[str, Any]]) -> dict[str, QuestionRead]:
    """The exact versions an invitation was sent with (inside its tenant scope), by id."""
    national = [ref["id"] for ref in refs if not ref.get("local")]
    local = [ref["id"] for ref in refs if ref.get("local")]
    found: dict[str, QuestionRead] = {}
    if national:
        bank = await _national_bank()
        if any(str(i) not in bank.by_id for i in national):
            forget_cached_bank()
            bank = await _national_bank()
        found.update({str(i): bank.by_id[str(i)] for i in national if str(i) in bank.by_id})
    if local:
        for row in await LocalQuestion.select_in_tenant().where(LocalQuestion.id.is_in(local)):
            found[str(row["id"])] = read(row, local=True)
    return found


def score_answer(question: QuestionRead, raw: Any, field: str) -> Scored:
    """Validate one raw answer (form text or an SMS digit) against its question."""
    if question.kind == "text":
        text = str(raw).strip()
        if len(text) > TEXT_MAX:
            raise invalid(field, f"at most {TEXT_MAX} characters")
        return Scored(None, text, None, False)
    if question.kind == "choice":
        options = {str(c["value"]): c for c in question.choices}
        if str(raw) not in options:
            raise invalid(field, f"must be one of {', '.join(options)}")
        return Scored(None, str(raw), None, bool(options[str(raw)].get("negative")))
    low, high = RANGES[question.kind]
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise invalid(field, f"must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise invalid(field, f"must be from {low} to {high}")
    score = round((value - low) * 100 / (high - low))
    return Scored(value, None, score, value <= NEGATIVE_AT_OR_BELOW[question.kind])
