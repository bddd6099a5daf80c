"""Flags on answers that look staged, and headquarters' review of them. Flagged answers
are kept but shown apart from the results until headquarters clears them; the review queue
is OEM-wide and holds no customer data."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from dealerhub.platform import db, events
from dealerhub.platform.log_redaction import redact
from dealerhub.platform.tables import AppUser, AuditLog, Dealer, Region
from dealerhub.platform.tenancy import require_tenant, tenant_scope, transaction
from dealerhub.survey.answers.tables import Answer, invitation_with_answers
from dealerhub.survey.common import TEXT_MAX, invalid, utcnow
from dealerhub.survey.integrity.tables import DECISIONS, REVIEW_STATES, FlagDecision, FlagReview
from dealerhub.survey.questions import service as questions
from dealerhub.survey.results.facts import dealer_region
from dealerhub.survey.results.tables import ResponseFact
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.bulk import loaded
from dealerhub.tenants.customers import service as customers
from dealerhub.tenants.staff import service as staff
from dealerhub.tenants.vehicles import service as vehicles

FLAGS = ("shared_phone", "dealer_network", "dealer_device", "advisor_cluster", "solicited")
# English msgids; zh-CN in the catalogue
FLAG_LABELS = {
    "shared_phone": "One phone number on several customers",
    "dealer_network": "Sent from the dealer's network",
    "dealer_device": "Sent from a dealer staff device",
    "advisor_cluster": "Cluster of perfect scores for one advisor",
    "solicited": "Mentions asking for a top score",
}
STATE_LABELS = {"pending": "Awaiting review", "upheld": "Upheld: not counted",
                "cleared": "Cleared: counted"}
NETWORK_WINDOW = timedelta(days=30)
CLUSTER_WINDOW = timedelta(days=7)
CLUSTER_SIZE = 5
STAFF_IPS_CACHE_SECONDS = 60.0
SOLICITING = re.compile(
    r"满分|五星|5星|好评|十分|10分|打高分|给个?高分|top score|full marks|five stars|"
    r"asked (me )?(to give|for) (a )?(10|5|top|full)", re.IGNORECASE)


@dataclass(frozen=True)
class Submission:
    """Where an answer came from: the channel, the client address, a staff session."""

    channel: str = "web"
    client_ip: str = ""
    staff_session: bool = False


_staff_ips: dict[uuid.UUID, tuple[float, frozenset[str]]] = {}


async def _dealer_network(client_ip: str, now: datetime) -> bool:
    """The address was used by this dealer's signed-in staff in the last 30 days (the set
    of addresses is re-read at most once a minute per dealer)."""
    if not client_ip:
        return False
    tid = require_tenant()
    cached = _staff_ips.get(tid)
    if cached is None or time.monotonic() - cached[0] > STAFF_IPS_CACHE_SECONDS:
        rows = await AuditLog.select(AuditLog.ip).where(
            (AuditLog.tenant_id == tid) & (AuditLog.user_id.is_not_null())
            & (AuditLog.at >= now - NETWORK_WINDOW)).distinct()
        cached = (time.monotonic(), frozenset(row["ip"] for row in rows if row["ip"]))
        _staff_ips[tid] = cached
    return client_ip in cached[1]


async def _advisor_cluster(invitation: Invitation, scores: list[int], now: datetime) -> bool:
    """Perfect scores for one advisor piling up: this one perfect, and 5+ perfect in 7 days."""
    if invitation.advisor_staff_id is None or not scores or min(scores) < 100:
        return False
    recent = await Invitation.select_in_tenant(Invitation.id).where(
        Invitation.advisor_staff_id == invitation.advisor_staff_id,
        Invitation.status.is_in(["partial", "answered"]),
        Invitation.sent_at >= now - CLUSTER_WINDOW, Invitation.id != invitation.id)
    ids = [row["id"] for row in recent]
    if len(ids) < CLUSTER_SIZE - 1:
        return False
    imperfect = {row["invitation_id"] for row in await Answer.select_in_tenant(
        Answer.invitation_id).where(Answer.invitation_id.is_in(ids), Answer.score < 100)}
    return len(set(ids) - imperfect) >= CLUSTER_SIZE - 1


async def flags_for(invitation: Invitation, shares_phone: bool, scores: list[int],
                    texts: list[str], source: Submission, now: datetime) -> list[str]:
    """The integrity flags of one submission (inside the tenant scope); `shares_phone`:
    the customer's phone is on another customer too (read with the invitation)."""
    found = []
    if shares_phone:
        found.append("shared_phone")
    if source.channel == "web" and await _dealer_network(source.client_ip, now):
        found.append("dealer_network")
    if source.staff_session:
        found.append("dealer_device")
    if await _advisor_cluster(invitation, scores, now):
        found.append("advisor_cluster")
    if any(SOLICITING.search(text) for text in texts):
        found.append("solicited")
    return found


# --- headquarters' review queue --------------------------------------------------------------

PER_PAGE = 25
SORTS = ("newest", "oldest")
MASK = "***"
# what could name the customer in free text beyond the identifiers we know: long digit
# runs (phone numbers written any way), VINs, mainland plates
_NUMBER = re.compile(r"(?<!\d)\+?\d[\d \-]{5,}\d(?!\d)")
_VIN = re.compile(r"(?<![A-Za-z0-9])[A-HJ-NPR-Za-hj-npr-z0-9]{17}(?![A-Za-z0-9])")
_PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领]"
                    r"[A-Za-z][ ·]?[A-Za-z0-9]{5,6}")


# how a comment names someone without the full name: the family name with a form of
# address ("张先生", "小张", "王总"), or the given name alone ("秀英")
_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
    "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "西门", "南宫"})
_AFTER_SURNAME = ("先生", "女士", "小姐", "太太", "师傅", "老师", "经理", "总", "哥", "姐", "工")
_BEFORE_SURNAME = ("小", "老", "阿")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,4}")


def name_forms(name: str) -> list[str]:
    """The ways free text refers to a customer by name: the name itself, a Chinese name's
    family name with a form of address and its given name of two or more characters, and
    each word of a name in Latin letters."""
    name = name.strip()
    if not _HAN.fullmatch(name):
        return [name, *(word for word in name.split() if len(word) >= 2)]
    surname = name[:2] if name[:2] in _COMPOUND_SURNAMES else name[:1]
    given = name[len(surname):]
    return [name, *(surname + title for title in _AFTER_SURNAME),
            *(title + surname for title in _BEFORE_SURNAME), *([given] if len(given) >= 2 else [])]


def mask_text(text: str, identifiers: list[str]) -> str:
    """Free text with the customer's known identifiers and anything shaped like a phone
    number, e-mail address, VIN or plate replaced, so headquarters reads the words only."""
    for known in sorted({i for i in identifiers if len(i) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(known), MASK, text, flags=re.IGNORECASE)
    text = redact(text)
    for pattern in (_NUMBER, _VIN, _PLATE):
        text = pattern.sub(MASK, text)
    return text


async def _identifiers(customer_id: uuid.UUID) -> list[str]:
    """The customer's name (each form of it), phone (both forms), e-mail, plates and VINs
    (inside the scope)."""
    tid = require_tenant()
    customer = await customers.get_customer(tid, customer_id)
    found: list[str] = []
    if customer is not None:
        found += [*name_forms(customer.name or ""), customer.email or "",
                  customer.phone_e164 or ""]
        if customer.phone_e164:
            with contextlib.suppress(phonenumbers.NumberParseException):
                found.append(str(phonenumbers.parse(customer.phone_e164).national_number))
    for vehicle in await vehicles.list_vehicles_for_customer(tid, customer_id):
        found += [vehicle.vin, vehicle.plate or ""]
    return found


def _flag_set(text: str) -> set[str]:
    return {flag for flag in text.split(",") if flag}


async def review_of(invitation_id: uuid.UUID) -> dict[str, Any] | None:
    """The queue entry of an invitation of the current dealer, if it was ever flagged."""
    return await FlagReview.select(
        FlagReview.id, FlagReview.state, FlagReview.reviewed_flags).where(
        (FlagReview.tenant_id == require_tenant()) & (FlagReview.invitation_id == invitation_id)
    ).first()


def counts(review: dict[str, Any] | None, flags: list[str]) -> bool:
    """A flagged response counts in the results once headquarters has cleared every flag
    it carries; a flag raised after the decision puts it back in the queue."""
    return (review is not None and review["state"] == "cleared"
            and set(flags) <= _flag_set(review["reviewed_flags"]))


async def queue_for_review(invitation: Invitation, answers: list[dict[str, Any]],
                           flags: list[str], review: dict[str, Any] | None,
                           now: datetime) -> None:
    """Put a flagged response in headquarters' queue, or refresh its entry with the answers
    given since (inside the dealer's scope, in the submission's transaction)."""
    texts = [a["value_text"] for a in answers if a["kind"] == "text" and a["value_text"]]
    identifiers = await _identifiers(invitation.customer_id) if texts else []
    values = {
        "answered_at": invitation.answered_at or now, "flags": ",".join(sorted(flags)),
        "answers": [{"key": a["question_key"], "kind": a["kind"],
                     "value": a["value_int"] if a["value_int"] is not None else a["value_text"],
                     "score": a["score"]} for a in answers if a["score"] is not None],
        "verbatims": [mask_text(text, identifiers) for text in texts],
        "advisor_staff_id": invitation.advisor_staff_id,
    }
    if review is None:
        tid = require_tenant()
        await FlagReview.insert(FlagReview(
            tenant_id=tid, region_id=await dealer_region(tid), invitation_id=invitation.id,
            **values)).on_conflict(
            target=(FlagReview.tenant_id, FlagReview.invitation_id), action="DO UPDATE",
            values=[getattr(FlagReview, name) for name in values])
        return
    if invitation.answered_at is None:  # still partial: keep when it was first flagged
        del values["answered_at"]
    if review["state"] != "pending" and not set(flags) <= _flag_set(review["reviewed_flags"]):
        values["state"] = "pending"
    await FlagReview.update({getattr(FlagReview, k): v for k, v in values.items()}).where(
        FlagReview.id == review["id"])


async def backfill_reviews(tenant_id: uuid.UUID) -> int:
    """Queue the dealer's flagged responses that have no entry yet (those flagged before
    the queue existed); an entry already there is left as it is. Returns how many were
    queued. Idempotent: a second run queues nothing."""
    async with tenant_scope(tenant_id):
        queued = {row["invitation_id"] for row in await FlagReview.select(
            FlagReview.invitation_id).where(FlagReview.tenant_id == tenant_id)}
        missing = [row["id"] for row in await Invitation.select_in_tenant(
            Invitation.id, Invitation.flags).where(
            Invitation.status.is_in(["answered", "partial"]), Invitation.kind != "confirm")
            if loaded(row["flags"], []) and row["id"] not in queued]
        for invitation_id in missing:
            found = await invitation_with_answers(invitation_id)
            assert found is not None  # read in this transaction a moment ago
            await queue_for_review(found.invitation, found.answers,
                                   loaded(found.invitation.flags, []), None, utcnow())
    return len(missing)


async def review_states(tenant_id: uuid.UUID,
                        invitation_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Headquarters' review state of a dealer's flagged responses, by invitation."""
    if not invitation_ids:
        return {}
    rows = await FlagReview.select(FlagReview.invitation_id, FlagReview.state).where(
        (FlagReview.tenant_id == tenant_id) & FlagReview.invitation_id.is_in(invitation_ids))
    return {row["invitation_id"]: row["state"] for row in rows}


NO_REGION = uuid.UUID(int=0)


def visible_region(role: str, region_id: uuid.UUID | None) -> uuid.UUID | None:
    """The one region a reviewer is limited to: a regional manager's own (none assigned:
    nothing), None for national roles."""
    if role == "oem_regional_manager":
        return region_id or NO_REGION
    return None


@dataclass(frozen=True)
class ReviewFilter:
    dealer_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    flag: str = ""
    review_state: str = ""
    sort: str = "newest"


@dataclass
class ReviewItem:
    id: uuid.UUID
    dealer_id: uuid.UUID
    dealer_code: str
    dealer_name: str
    region_id: uuid.UUID | None
    region_zh: str
    region_en: str
    answered_at: datetime
    flags: list[str]
    answers: list[dict[str, Any]]  # key, text_zh, text_en, kind, value, score
    verbatims: list[str]
    advisor_name: str
    state: str
    note: str
    decided_at: datetime | None
    decided_by: str = ""
    decisions: list[dict[str, Any]] = field(default_factory=list)


async def check_filter(chosen: ReviewFilter) -> None:
    """Refuse a filter value that names nothing, naming the field."""
    if chosen.flag and chosen.flag not in FLAGS:
        raise invalid("flag", f"one of {', '.join(FLAGS)}")
    if chosen.review_state and chosen.review_state not in REVIEW_STATES:
        raise invalid("review_state", f"one of {', '.join(REVIEW_STATES)}")
    if chosen.sort not in SORTS:
        raise invalid("sort", f"one of {', '.join(SORTS)}")
    if chosen.dealer_id and not await Dealer.exists().where(Dealer.id == chosen.dealer_id):
        raise invalid("dealer_id", "no such dealer")
    if chosen.region_id and not await Region.exists().where(Region.id == chosen.region_id):
        raise invalid("region_id", "no such region")


def _where(chosen: ReviewFilter, region_only: uuid.UUID | None) -> Any:
    where = FlagReview.id.is_not_null()
    if region_only is not None:
        where &= FlagReview.region_id == region_only
    if chosen.dealer_id:
        where &= FlagReview.tenant_id == chosen.dealer_id
    if chosen.region_id:
        where &= FlagReview.region_id == chosen.region_id
    if chosen.flag:  # flag names are checked and none contains another
        where &= FlagReview.flags.like(f"%{chosen.flag}%")
    if chosen.review_state:
        where &= FlagReview.state == chosen.review_state
    return where


async def _items(rows: list[dict[str, Any]]) -> list[ReviewItem]:
    """Queue rows with dealer, region, advisor and question names (read per page)."""
    dealer_ids = list({row["tenant_id"] for row in rows})
    dealers = {d["id"]: d for d in await Dealer.select(
        Dealer.id, Dealer.code, Dealer.name, Dealer.region).where(Dealer.id.is_in(dealer_ids))
    } if dealer_ids else {}
    regions = {r["id"]: r for r in await Region.select(Region.id, Region.name_zh,
                                                       Region.name_en)}
    advisors: dict[uuid.UUID, str] = {}
    for dealer_id in {row["tenant_id"] for row in rows if row["advisor_staff_id"]}:
        advisors.update({s.id: s.name for s in await staff.list_staff(dealer_id)})
    deciders = {row["decided_by"] for row in rows if row["decided_by"]}
    names = {u["id"]: u["display_name"] for u in await AppUser.select(
        AppUser.id, AppUser.display_name).where(AppUser.id.is_in(list(deciders)))
    } if deciders else {}
    bank = {q.key: q for q in await questions.list_national(active_only=False)}
    items = []
    for row in rows:
        dealer = dealers.get(row["tenant_id"], {})
        region = regions.get(row["region_id"], {})
        answers = [{**a, "text_zh": bank[a["key"]].text_zh if a["key"] in bank else a["key"],
                    "text_en": bank[a["key"]].text_en if a["key"] in bank else a["key"]}
                   for a in row["answers"] or []]
        items.append(ReviewItem(
            row["id"], row["tenant_id"], dealer.get("code", ""), dealer.get("name", ""),
            row["region_id"], region.get("name_zh", ""), region.get("name_en", ""),
            row["answered_at"], sorted(_flag_set(row["flags"])), answers,
            list(row["verbatims"] or []), advisors.get(row["advisor_staff_id"], ""),
            row["state"], row["note"], row["decided_at"], names.get(row["decided_by"], "")))
    return items


_LISTED = (FlagReview.id, FlagReview.tenant_id, FlagReview.region_id, FlagReview.answered_at,
           FlagReview.flags, FlagReview.answers, FlagReview.verbatims,
           FlagReview.advisor_staff_id, FlagReview.state, FlagReview.note,
           FlagReview.decided_by, FlagReview.decided_at)


async def list_reviews(chosen: ReviewFilter, region_only: uuid.UUID | None = None,
                       page: int = 1, per_page: int = PER_PAGE) -> tuple[list[ReviewItem], int]:
    """Flagged responses of every dealer (or of one region), filtered, a page at a time."""
    await check_filter(chosen)
    where = _where(chosen, region_only)
    async with transaction(write=False):
        rows = await db.paged(FlagReview.select(*_LISTED).where(where).order_by(
            FlagReview.answered_at, ascending=chosen.sort == "oldest").order_by(
            FlagReview.id), page, per_page).output(load_json=True)
        total = await FlagReview.count().where(where)
    return await _items(rows), total


async def get_review(review_id: uuid.UUID,
                     region_only: uuid.UUID | None = None) -> ReviewItem | None:
    """One queue entry with its whole decision history; None when missing or outside the
    reviewer's region."""
    where = FlagReview.id == review_id
    if region_only is not None:
        where &= FlagReview.region_id == region_only
    row = await FlagReview.select(*_LISTED).where(where).output(load_json=True).first()
    if row is None:
        return None
    item = (await _items([row]))[0]
    decisions = await FlagDecision.select(
        FlagDecision.decision, FlagDecision.previous_state, FlagDecision.note,
        FlagDecision.actor, FlagDecision.decided_at).where(
        FlagDecision.review_id == review_id).order_by(FlagDecision.decided_at)
    item.decisions = list(decisions)
    return item


@dataclass(frozen=True)
class Reviewer:
    user_id: uuid.UUID
    actor: str  # e-mail, kept with the decision
    region_only: uuid.UUID | None = None


async def decide(review_id: uuid.UUID, decision: str, note: str, reviewer: Reviewer,
                 now: datetime | None = None) -> ReviewItem | None:
    """Clear (the answer was genuine: it counts in the results from now on, once) or uphold
    (it stays out) a flagged response. Re-deciding is allowed; each decision is kept.
    None when the entry is missing or outside the reviewer's region."""
    if decision not in DECISIONS:
        raise invalid("decision", f"one of {', '.join(DECISIONS)}")
    if len(note) > TEXT_MAX:
        raise invalid("note", f"at most {TEXT_MAX} characters")
    now = now or utcnow()
    where = FlagReview.id == review_id
    if reviewer.region_only is not None:
        where &= FlagReview.region_id == reviewer.region_only
    owner = await FlagReview.select(FlagReview.tenant_id).where(where).first()
    if owner is None:
        return None
    state = DECISIONS[decision]
    async with tenant_scope(owner["tenant_id"]):
        found = await FlagReview.select(
            FlagReview.tenant_id, FlagReview.invitation_id, FlagReview.state,
            FlagReview.flags).where(FlagReview.id == review_id).first()
        await FlagReview.update({
            FlagReview.state: state, FlagReview.note: note, FlagReview.decided_by:
            reviewer.user_id, FlagReview.decided_at: now,
            FlagReview.reviewed_flags: found["flags"]}).where(FlagReview.id == review_id)
        await FlagDecision.insert(FlagDecision(
            review_id=review_id, tenant_id=found["tenant_id"], decision=decision,
            previous_state=found["state"], note=note, decided_by=reviewer.user_id,
            actor=reviewer.actor, decided_at=now))
        # the response fact is what every result reads: the same switch as at submission
        await ResponseFact.update({ResponseFact.flagged: state != "cleared"}).where(
            (ResponseFact.tenant_id == found["tenant_id"])
            & (ResponseFact.invitation_id == found["invitation_id"]))
        await events.emit("survey.flag_reviewed", {
            "invitation_id": found["invitation_id"], "decision": decision, "state": state,
            "previous_state": found["state"], "at": now})
    return await get_review(review_id)
