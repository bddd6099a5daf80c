"""Headquarters' review queue: response types (no customer data) and the decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from dealerhub.platform.web.api import StrictStruct
from dealerhub.platform.web.i18n import gettext_for
from dealerhub.survey.common import TEXT_MAX
from dealerhub.survey.integrity.service import FLAG_LABELS, ReviewItem


class FlagDecisionWrite(StrictStruct):
    decision: Literal["clear", "uphold"]
    note: Annotated[str, msgspec.Meta(max_length=TEXT_MAX)] = ""


class FlagLabel(msgspec.Struct):
    kind: str
    label_zh: str
    label_en: str


class AnswerScore(msgspec.Struct):
    key: str
    text_zh: str
    text_en: str
    kind: str
    value: int | str | None
    score: float  # 0–100


class DecisionRead(msgspec.Struct):
    decision: str
    previous_state: str
    note: str
    actor: str
    decided_at: datetime


class FlagReviewRead(msgspec.Struct):
    id: uuid.UUID
    dealer_id: uuid.UUID
    dealer_code: str
    dealer_name: str
    region_id: uuid.UUID | None
    region_zh: str
    region_en: str
    answered_at: datetime
    flags: list[FlagLabel]
    answers: list[AnswerScore]
    verbatims: list[str]
    advisor_name: str
    review_state: str
    note: str
    decided_at: datetime | None
    decided_by: str
    decisions: list[DecisionRead]


class FlagReviewPage(msgspec.Struct):
    items: list[FlagReviewRead]
    total: int
    page: int
    per_page: int


def flag_review_read(item: ReviewItem) -> FlagReviewRead:
    zh = gettext_for("zh-CN")
    return FlagReviewRead(
        id=item.id, dealer_id=item.dealer_id, dealer_code=item.dealer_code,
        dealer_name=item.dealer_name, region_id=item.region_id, region_zh=item.region_zh,
        region_en=item.region_en, answered_at=item.answered_at,
        flags=[FlagLabel(f, zh(FLAG_LABELS.get(f, f)), FLAG_LABELS.get(f, f))
               for f in item.flags],
        answers=[AnswerScore(a["key"], a["text_zh"], a["text_en"], a["kind"], a["value"],
                             float(a["score"])) for a in item.answers],
        verbatims=item.verbatims, advisor_name=item.advisor_name, review_state=item.state,
        note=item.note, decided_at=item.decided_at, decided_by=item.decided_by,
        decisions=[DecisionRead(**d) for d in item.decisions])
