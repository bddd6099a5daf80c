"""Headquarters' review of flagged responses: clearing counts the answer exactly once,
upholding keeps it out, decisions can be retaken and are kept, and the queue carries no
customer data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.scoring import tasks as _scoring  # noqa: F401 - the facts consumer
from dealerhub.platform.scoring.tables import NO_STAFF, MetricFact
from dealerhub.survey.answers import service as answers
from dealerhub.survey.integrity import service as integrity
from dealerhub.survey.integrity.service import Reviewer, ReviewFilter, Submission
from dealerhub.survey.integrity.tables import FlagReview
from dealerhub.survey.results import service as results
from dealerhub.survey.triggers import service as triggers
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.vehicles import service as vehicles
from dealerhub.tenants.vehicles.schemas import VehicleUpdate
from tests.survey.conftest import invited, payloads, run_consumer
from tests.tenants.factories import make_phone

pytestmark = pytest.mark.anyio
KEYS = ["overall.csat", "care.updates", "overall.comment"]
NAME, PLATE = "欧阳秀英", "沪A9K731"
WORDS = "顾问让我一定给满分"


@dataclass
class Flagged:
    dealer_id: uuid.UUID
    invitation_id: uuid.UUID
    review_id: uuid.UUID
    phone: str
    vin: str


async def _flagged(dealer, ratings: dict[str, str] | None = None) -> Flagged:
    """A perfect answer whose comment asks for a top score and names the customer."""
    phone = make_phone()
    row = await invited(dealer.id, KEYS, name=NAME, phone=phone)
    [vehicle] = await vehicles.list_vehicles_for_customer(dealer.id, row.customer_id)
    await vehicles.update_vehicle(dealer.id, vehicle.id, VehicleUpdate(plate=PLATE))
    comment = (f"{WORDS}，我是{NAME}，电话{phone[3:]}，车牌{PLATE}，VIN {vehicle.vin}，"
               f"邮箱 ouyang@example.com，叫我欧阳女士或者秀英")
    values = {"overall.csat": "5", "care.updates": "5", "overall.comment": comment}
    await answers.submit(triggers.survey_token(dealer.id, row.id),
                         ratings if ratings is not None else values, Submission())
    review = await FlagReview.select(FlagReview.id).where(
        FlagReview.invitation_id == row.id).first()
    assert review is not None, "a flagged answer joins the review queue"
    return Flagged(dealer.id, row.id, review["id"], phone, vehicle.vin)


async def _summary(dealer_id: uuid.UUID) -> results.Summary:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return (await results.dealer_results(dealer_id, 30, today=tomorrow)).summary


async def _csat_answers_in_scoring(dealer_id: uuid.UUID) -> float:
    """The scoring CSAT denominator of the dealer, after the consumer saw every event."""
    for event_type in ("survey.answered", "survey.flag_reviewed"):
        await run_consumer(dealer_id, event_type, "scoring.facts")
    rows = await MetricFact.select(MetricFact.denominator).where(
        (MetricFact.dealer_id == dealer_id) & (MetricFact.metric_key == "csat")
        & (MetricFact.staff_id == NO_STAFF))
    return sum(row["denominator"] for row in rows)


def _reviewer(oem) -> Reviewer:
    return Reviewer(oem.users["oem_analyst"], oem.emails["oem_analyst"])


async def test_clearing_counts_the_answer_exactly_once(dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    before = await _summary(dealer_a.id)
    assert (before.responses, before.flagged, before.csat) == (0, 1, None)
    # scoring left the answer out when it arrived (its event says it was flagged)
    assert await _csat_answers_in_scoring(dealer_a.id) == 0
    assert [p["flagged"] for p in await payloads(dealer_a.id, "survey.answered")] == [True]

    item = await integrity.decide(flagged.review_id, "clear", "客户本人确认", _reviewer(oem))

    assert item is not None and item.state == "cleared" and item.note == "客户本人确认"
    after = await _summary(dealer_a.id)
    assert (after.responses, after.flagged, after.csat) == (1, 0, 100.0)
    assert await _csat_answers_in_scoring(dealer_a.id) == 1  # not a second time
    words, _ = await results.verbatims(dealer_a.id)
    assert [w.flagged for w in words] == [False]
    [listed] = await results.flagged_invitations(dealer_a.id)
    assert (listed.id, listed.review_state) == (flagged.invitation_id, "cleared")


async def test_upholding_keeps_it_out(dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    item = await integrity.decide(flagged.review_id, "uphold", "", _reviewer(oem))
    assert item is not None and item.state == "upheld"
    summary = await _summary(dealer_a.id)
    assert (summary.responses, summary.flagged) == (0, 1)
    [listed] = await results.flagged_invitations(dealer_a.id)
    assert listed.review_state == "upheld"


async def test_deciding_again_is_allowed_and_kept(dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    await integrity.decide(flagged.review_id, "clear", "先放行", _reviewer(oem))
    admin = Reviewer(oem.users["oem_admin"], oem.emails["oem_admin"])
    item = await integrity.decide(flagged.review_id, "uphold", "复核后维持", admin)
    assert item is not None and item.state == "upheld"
    assert [(d["decision"], d["previous_state"], d["actor"]) for d in item.decisions] == [
        ("clear", "pending", oem.emails["oem_analyst"]),
        ("uphold", "cleared", oem.emails["oem_admin"])]
    assert (await _summary(dealer_a.id)).responses == 0
    assert await _csat_answers_in_scoring(dealer_a.id) == 0
    again = await integrity.decide(flagged.review_id, "clear", "", admin)
    assert again is not None and len(again.decisions) == 3
    assert (await _summary(dealer_a.id)).responses == 1
    assert await _csat_answers_in_scoring(dealer_a.id) == 1
    reviewed = [p["state"] for p in await payloads(dealer_a.id, "survey.flag_reviewed")]
    assert sorted(reviewed) == ["cleared", "cleared", "upheld"]


async def test_later_answers_of_a_cleared_response_still_count_once(dealer_a, oem, bank) -> None:
    row = await invited(dealer_a.id, KEYS)
    token = triggers.survey_token(dealer_a.id, row.id)
    await answers.submit(token, {"overall.comment": "请给五星好评"}, Submission())
    review = await FlagReview.select(FlagReview.id).where(
        FlagReview.invitation_id == row.id).first()
    await integrity.decide(review["id"], "clear", "", _reviewer(oem))
    await answers.submit(token, {"overall.csat": "4"}, Submission())
    summary = await _summary(dealer_a.id)
    assert (summary.responses, summary.flagged, summary.csat) == (1, 0, 100.0)
    assert await _csat_answers_in_scoring(dealer_a.id) == 1
    # a new kind of flag after the decision sends it back to the queue, out of the figures
    await answers.submit(token, {"care.updates": "5"}, Submission(staff_session=True))
    item = await integrity.get_review(review["id"])
    assert item is not None and item.state == "pending"
    assert item.flags == ["dealer_device", "solicited"]
    summary = await _summary(dealer_a.id)
    assert (summary.responses, summary.flagged) == (0, 1)
    assert await _csat_answers_in_scoring(dealer_a.id) == 0


async def test_the_queue_holds_no_customer_data(dealer_a, bank) -> None:
    flagged = await _flagged(dealer_a)
    items, total = await integrity.list_reviews(ReviewFilter(dealer_id=dealer_a.id))
    assert total == 1
    [item] = items
    shown = repr(item)
    assert WORDS in shown and item.flags == ["solicited"]
    for secret in (NAME, flagged.phone, flagged.phone[3:], PLATE, flagged.vin,
                   "ouyang@example.com", "欧阳", "秀英"):
        assert secret not in shown
    assert {a["key"]: a["value"] for a in item.answers} == {"overall.csat": 5,
                                                           "care.updates": 5}
    assert item.dealer_code == dealer_a.code and item.state == "pending"


async def test_filters_and_order(dealer_a, oem, bank) -> None:
    first = await _flagged(dealer_a)
    second = await _flagged(dealer_a)
    await integrity.decide(first.review_id, "uphold", "", _reviewer(oem))
    mine = ReviewFilter(dealer_id=dealer_a.id)
    newest, _ = await integrity.list_reviews(mine)
    oldest, _ = await integrity.list_reviews(ReviewFilter(dealer_id=dealer_a.id, sort="oldest"))
    assert [i.id for i in newest] == [second.review_id, first.review_id]
    assert [i.id for i in oldest] == [first.review_id, second.review_id]
    pending, total = await integrity.list_reviews(
        ReviewFilter(dealer_id=dealer_a.id, review_state="pending", flag="solicited"))
    assert ([i.id for i in pending], total) == ([second.review_id], 1)
    assert (await integrity.list_reviews(
        ReviewFilter(dealer_id=dealer_a.id, flag="shared_phone")))[1] == 0
    assert (await integrity.list_reviews(
        ReviewFilter(region_id=dealer_a.region_id, dealer_id=dealer_a.id)))[1] == 2
    paged, total = await integrity.list_reviews(mine, page=2, per_page=1)
    assert ([i.id for i in paged], total) == ([first.review_id], 2)


async def test_bad_input_names_the_field(dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    cases = [("maybe", "", "decision"), ("clear", "x" * 2001, "note")]
    for decision, note, field_name in cases:
        with pytest.raises(InvalidInput) as refused:
            await integrity.decide(flagged.review_id, decision, note, _reviewer(oem))
        assert refused.value.errors[0].field == field_name
    assert await integrity.decide(uuid.uuid4(), "clear", "", _reviewer(oem)) is None
    for chosen, field_name in ((ReviewFilter(flag="nope"), "flag"),
                               (ReviewFilter(review_state="done"), "review_state"),
                               (ReviewFilter(sort="best"), "sort"),
                               (ReviewFilter(dealer_id=uuid.uuid4()), "dealer_id"),
                               (ReviewFilter(region_id=uuid.uuid4()), "region_id")):
        with pytest.raises(InvalidInput) as refused:
            await integrity.list_reviews(chosen)
        assert refused.value.errors[0].field == field_name
    assert (await integrity.get_review(flagged.review_id)).state == "pending"


async def test_a_regional_manager_reviews_only_their_region(dealer_a, oem, bank) -> None:
    flagged = await _flagged(dealer_a)
    elsewhere = Reviewer(oem.users["oem_admin"], "rm@test.example", uuid.uuid4())
    assert await integrity.decide(flagged.review_id, "clear", "", elsewhere) is None
    assert (await integrity.list_reviews(ReviewFilter(dealer_id=dealer_a.id),
                                         elsewhere.region_only))[1] == 0
    here = Reviewer(oem.users["oem_admin"], "rm@test.example", dealer_a.region_id)
    item = await integrity.decide(flagged.review_id, "clear", "", here)
    assert item is not None and item.state == "cleared"
    assert integrity.visible_region("oem_regional_manager", None) == integrity.NO_REGION
    assert integrity.visible_region("oem_analyst", dealer_a.region_id) is None


def test_a_name_is_masked_in_the_forms_people_write_it() -> None:
    """The full name, the family name with a form of address and the given name alone;
    other people's names stay (they are staff, or nobody we know)."""
    said = ("王伟说王总很好，小王和王先生都满意，伟哥不是他，张先生是顾问，"
            "John Smith thanks Mr Smith")
    identifiers = [*integrity.name_forms("王伟"), *integrity.name_forms("John Smith")]
    assert integrity.mask_text(said, identifiers) == (
        "***说***很好，***和***都满意，伟哥不是他，张先生是顾问，*** thanks Mr ***")
    assert integrity.name_forms("欧阳秀英")[:2] == ["欧阳秀英", "欧阳先生"]
    compound = integrity.name_forms("欧阳秀英")
    assert "秀英" in compound and "阳秀英" not in compound


async def test_responses_flagged_before_the_queue_existed_are_backfilled(dealer_a, oem,
                                                                         bank) -> None:
    """`dealerhub backfill-flag-reviews`: a flagged response without an entry (as before the
    queue existed) is queued with its customer masked; queued ones are left alone."""
    kept = await _flagged(dealer_a)
    lost = await _flagged(dealer_a)
    await integrity.decide(kept.review_id, "clear", "核实", _reviewer(oem))
    await FlagReview.delete().where(FlagReview.id == lost.review_id)
    assert await integrity.backfill_reviews(dealer_a.id) == 1
    assert await integrity.backfill_reviews(dealer_a.id) == 0
    items, total = await integrity.list_reviews(ReviewFilter(dealer_id=dealer_a.id))
    assert total == 2
    (queued,) = [item for item in items if item.id != kept.review_id]
    assert {item.id: item.state for item in items} == {kept.review_id: "cleared",
                                                        queued.id: "pending"}
    assert queued.flags == ["solicited"] and WORDS in repr(queued)
    for secret in (NAME, "欧阳", "秀英", lost.phone[3:], PLATE, lost.vin):
        assert secret not in repr(queued)
