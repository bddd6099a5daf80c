"""Survey results: a dealer's CSAT, NPS, per-question distributions, verbatims and trend;
the OEM's national results by question and service step, weak steps and key drivers.

Both read the anonymous response facts; flagged responses are counted apart, never mixed in.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.tables import Region
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.common import utcnow
from dealerhub.survey.integrity import service as integrity
from dealerhub.survey.questions import service as questions
from dealerhub.survey.questions.tables import STEPS
from dealerhub.survey.results.tables import ResponseFact
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.bulk import loaded

WEAK_MARGIN = 5.0  # points below the mean of all steps
MIN_DRIVER_N = 10
TREND_WEEKS = 12


@dataclass
class Summary:
    responses: int = 0
    flagged: int = 0
    csat: float | None = None  # % of CSAT answers 4 or 5
    csat_mean: float | None = None
    nps: float | None = None  # % promoters − % detractors


@dataclass
class QuestionStat:
    key: str
    text_zh: str
    text_en: str
    step: str
    kind: str
    n: int
    mean: float | None  # 0–100
    distribution: list[tuple[int, int]] = field(default_factory=list)  # (value, count)


@dataclass
class DealerResults:
    summary: Summary
    questions: list[QuestionStat]
    trend: list[dict[str, Any]]  # [{"week": "2026-W10", "csat": …, "nps": …, "n": …}]


def _summary(facts: list[dict[str, Any]]) -> Summary:
    clean = [f for f in facts if not f["flagged"]]
    csat = [f["csat"] for f in clean if f["csat"] is not None]
    nps = [f["nps"] for f in clean if f["nps"] is not None]
    return Summary(
        responses=len(clean), flagged=len(facts) - len(clean),
        csat=round(100 * sum(v >= 4 for v in csat) / len(csat), 1) if csat else None,
        csat_mean=round(sum(csat) / len(csat), 2) if csat else None,
        nps=round(100 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps), 1)
        if nps else None)


def _value(kind: str, score: float) -> int:
    low, high = questions.RANGES.get(kind, (0, 100))
    return round(low + score * (high - low) / 100)


async def _question_stats(facts: list[dict[str, Any]]) -> list[QuestionStat]:
    by_key: dict[str, list[float]] = defaultdict(list)
    for fact in facts:
        if not fact["flagged"]:
            for key, score in loaded(fact["scores"], {}).items():
                by_key[key].append(float(score))
    bank = {q.key: q for q in await questions.list_national(active_only=False)}
    stats = []
    for key, scores in sorted(by_key.items()):
        q = bank.get(key)
        kind = q.kind if q else "rating"
        counts = Counter(_value(kind, s) for s in scores)
        stats.append(QuestionStat(
            key=key, text_zh=q.text_zh if q else key, text_en=q.text_en if q else key,
            step=q.step if q else "overall", kind=kind, n=len(scores),
            mean=round(sum(scores) / len(scores), 1), distribution=sorted(counts.items())))
    return stats


def _trend(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    weeks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in facts:
        day: date = fact["answered_on"]
        year, week, _ = day.isocalendar()
        weeks[f"{year}-W{week:02d}"].append(fact)
    out = []
    for week in sorted(weeks)[-TREND_WEEKS:]:
        summary = _summary(weeks[week])
        out.append({"week": week, "csat": summary.csat, "nps": summary.nps,
                    "n": summary.responses})
    return out


async def _facts(since: date, tenant_id: uuid.UUID | None = None,
                 region_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    query = ResponseFact.select(
        ResponseFact.tenant_id, ResponseFact.region_id, ResponseFact.answered_on,
        ResponseFact.scores, ResponseFact.csat, ResponseFact.nps, ResponseFact.flagged,
    ).where(ResponseFact.answered_on >= since)
    if tenant_id is not None:
        query = query.where(ResponseFact.tenant_id == tenant_id)
    if region_id is not None:
        query = query.where(ResponseFact.region_id == region_id)
    return await query


async def dealer_results(tenant_id: uuid.UUID, days: int = 90,
                         today: date | None = None) -> DealerResults:
    since = (today or utcnow().date()) - timedelta(days=days)
    facts = await _facts(since, tenant_id=tenant_id)
    return DealerResults(_summary(facts), await _question_stats(facts), _trend(facts))


@dataclass(frozen=True)
class Verbatim:
    at: datetime
    question_key: str
    text: str
    flagged: bool


async def verbatims(tenant_id: uuid.UUID, page: int = 1,
                    per_page: int = 20) -> tuple[list[Verbatim], int]:
    """The customers' own words, newest first; flagged ones are marked."""
    async with tenant_scope(tenant_id, write=False):
        where = (Answer.kind == "text") & Answer.value_text.is_not_null() & (
            Answer.value_text != "")
        rows = await db.paged(Answer.select_in_tenant(
            Answer.invitation_id, Answer.answered_at, Answer.question_key, Answer.value_text,
        ).where(where).order_by(Answer.answered_at, ascending=False), page, per_page)
        total = await Answer.count_in_tenant().where(where)
    ids = [r["invitation_id"] for r in rows]
    flagged = {row["invitation_id"] for row in await ResponseFact.select(
        ResponseFact.invitation_id).where(
        (ResponseFact.tenant_id == tenant_id) & ResponseFact.invitation_id.is_in(ids)
        & (ResponseFact.flagged == True))  # noqa: E712
    } if ids else set()
    return [Verbatim(r["answered_at"], r["question_key"], r["value_text"],
                     r["invitation_id"] in flagged) for r in rows], total


@dataclass(frozen=True)
class FlaggedResponse:
    id: uuid.UUID  # the invitation
    answered_at: datetime | None
    flags: list[str]
    review_state: str  # headquarters' review: pending / upheld / cleared


async def flagged_invitations(tenant_id: uuid.UUID, limit: int = 50) -> list[FlaggedResponse]:
    """The dealer's flagged responses, newest first, with headquarters' review state."""
    async with tenant_scope(tenant_id, write=False):
        rows = await Invitation.objects_in_tenant().where(
            Invitation.status.is_in(["partial", "answered"])
        ).order_by(Invitation.answered_at, ascending=False).limit(500).output(load_json=True)
    flagged = [row for row in rows if loaded(row.flags, [])][:limit]
    states = await integrity.review_states(tenant_id, [row.id for row in flagged])
    return [FlaggedResponse(row.id, row.answered_at, list(loaded(row.flags, [])),
                            states.get(row.id, "pending")) for row in flagged]


# --- national (OEM) ------------------------------------------------------------------------


@dataclass
class StepStat:
    step: str
    mean: float | None
    n: int
    weak: bool = False


@dataclass
class Driver:
    key: str
    text_zh: str
    text_en: str
    step: str
    r: float  # correlation with the target
    n: int
    mean: float  # 0–100: room to improve
    priority: float  # r × (100 − mean): where fixing moves the target most


@dataclass
class NationalResults:
    summary: Summary
    questions: list[QuestionStat]
    steps: list[StepStat]
    drivers_csat: list[Driver]
    drivers_nps: list[Driver]
    dealers: int
    regions: list[dict[str, Any]]
    region_id: uuid.UUID | None


def _pearson(pairs: list[tuple[float, float]]) -> float | None:
    n = len(pairs)
    if n < MIN_DRIVER_N:
        return None
    mx, my = sum(x for x, _ in pairs) / n, sum(y for _, y in pairs) / n
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pairs) / math.sqrt(sxx * syy)


def key_drivers(facts: list[dict[str, Any]], target: str,
                bank: dict[str, Any]) -> list[Driver]:
    """Which question's score moves the target (csat or nps) most: the correlation over
    responses that answered both, weighted by the room left to improve."""
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    target_key = "overall.csat" if target == "csat" else "overall.nps"
    for fact in facts:
        if fact["flagged"] or fact[target] is None:
            continue
        for key, score in loaded(fact["scores"], {}).items():
            if key != target_key:
                pairs[key].append((float(score), float(fact[target])))
    drivers = []
    for key, values in pairs.items():
        r = _pearson(values)
        if r is None:
            continue
        q = bank.get(key)
        mean = sum(x for x, _ in values) / len(values)
        drivers.append(Driver(key, q.text_zh if q else key, q.text_en if q else key,
                              q.step if q else "overall", round(r, 3), len(values),
                              round(mean, 1), round(max(r, 0) * (100 - mean), 1)))
    return sorted(drivers, key=lambda d: (d.priority, d.r), reverse=True)


def _steps(stats: list[QuestionStat]) -> list[StepStat]:
    sums: dict[str, list[float]] = defaultdict(list)
    for stat in stats:
        if stat.mean is not None and stat.step != "overall":
            sums[stat.step].extend([stat.mean] * stat.n)
    steps = [StepStat(step, round(sum(v) / len(v), 1) if v else None, len(v))
             for step in STEPS if step != "overall" for v in [sums.get(step, [])]]
    measured = [s.mean for s in steps if s.mean is not None]
    if measured:
        overall = sum(measured) / len(measured)
        for s in steps:
            s.weak = s.mean is not None and s.mean < overall - WEAK_MARGIN
    return steps


async def national_results(days: int = 90, region_id: uuid.UUID | None = None,
                           today: date | None = None) -> NationalResults:
    since = (today or utcnow().date()) - timedelta(days=days)
    facts = await _facts(since, region_id=region_id)
    stats = await _question_stats(facts)
    bank = {q.key: q for q in await questions.list_national(active_only=False)}
    regions = [{"id": r["id"], "code": r["code"], "name_zh": r["name_zh"],
                "name_en": r["name_en"]}
               for r in await Region.select(Region.id, Region.code, Region.name_zh,
                                            Region.name_en).order_by(Region.code)]
    dealers = len({f["tenant_id"] for f in facts})
    return NationalResults(_summary(facts), stats, _steps(stats),
                           key_drivers(facts, "csat", bank), key_drivers(facts, "nps", bank),
                           dealers, regions, region_id)


