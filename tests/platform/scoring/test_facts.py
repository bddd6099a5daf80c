"""Every metric from hand-built event sequences with known answers; idempotency, late
events, zero denominators, and recompute-from-events equal to the incremental rollups."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from dealerhub.platform import db, events
from dealerhub.platform.scoring import _facts, service, tasks
from dealerhub.platform.scoring.metrics import BENCHMARKED, METRICS, METRICS_LIST
from dealerhub.platform.scoring.tables import MetricRollup
from dealerhub.platform.tenancy import transaction
from tests.platform.scoring.helpers import at, feed, later

pytestmark = pytest.mark.anyio
MARCH = date(2030, 3, 1)
D = at(2030, 3, 10)
ADVISOR = uuid.uuid4()


def closed(when: datetime = D, **extra: object) -> tuple[str, dict]:
    return "repair_order.closed", {
        "repair_order_id": str(uuid.uuid4()), "closed_at": when, "ro_type": "maintenance",
        "total_amount": 800.0, "advisor_staff_id": str(ADVISOR),
        "previous_closed_at": None, **extra}


def booked(received: datetime, response_min: float | None, starts_in_h: float,
           **extra: object) -> tuple[str, dict]:
    return "appointment.booked", {
        "appointment_id": str(uuid.uuid4()), "request_received_at": received,
        "first_response_at": later(received, minutes=response_min)
        if response_min is not None else None,
        "booked_at": received, "starts_at": later(received, hours=starts_in_h), **extra}


def answered(**extra: object) -> tuple[str, dict]:
    return "survey.answered", {"answered_at": later(D, hours=5), **extra}


def due(kind: str, mode: str) -> tuple[str, dict]:
    return "touchpoint.due", {"kind": kind, "mode": mode, "due_at": later(D, hours=48)}


def touch(kind: str, completed_at: datetime, outcome: str = "reached_ok") -> tuple[str, dict]:
    """A touchpoint of the visit on day D, due 48 h after it."""
    return "touchpoint.completed", {"kind": kind, "due_at": later(D, hours=48),
                                    "completed_at": completed_at, "outcome": outcome}


def complaint(action: str, **extra: object) -> tuple[str, dict]:
    return f"complaint.{action}", {"opened_at": D, "interim_answered_at": None, **extra}


# (metric, events, expected value for March 2030)
CASES: list[tuple[str, list[tuple[str, dict]], float]] = [
    ("appointment_rate",
     [closed(), closed(), closed(), closed(),
      *[("appointment.completed", {"delivered_at": D})] * 3], 0.75),
    ("response_sla",
     [booked(D, 30, 2), booked(D, 90, 2), booked(D, 25, 2, request_channel="email"),
      booked(D, 45, 2, request_channel="email"), booked(D, None, 2)], 0.4),
    ("reminder_72h",
     [booked(D, 5, 100), booked(D, 5, 80), booked(D, 5, 30),
      ("appointment.reminder_sent", {"kind": "72h", "starts_at": later(D, hours=100)}),
      ("appointment.reminder_sent", {"kind": "24h", "starts_at": later(D, hours=100)})], 0.5),
    ("reminder_24h",
     [booked(D, 5, 100), booked(D, 5, 30), booked(D, 5, 10),
      ("appointment.reminder_sent", {"kind": "24h", "starts_at": later(D, hours=100)})], 0.5),
    ("contact_48h",
     [closed(), closed(), closed(), closed(),
      touch("contact_48h", later(D, hours=20)),
      touch("contact_48h", later(D, hours=60)),  # after its due time
      touch("contact_48h", later(D, hours=30), outcome="wrong_number"),
      touch("care_call_15", later(D, days=15))], 0.25),
    ("callback_rate",
     [due("contact_48h", "call"), due("care_call_15", "call"), due("usage_60", "message"),
      touch("contact_48h", later(D, hours=20)),
      touch("care_call_15", later(D, hours=48), outcome="wrong_number")], 0.5),
    ("csat", [answered(csat=5), answered(csat=4), answered(csat=3), answered(csat=1),
              answered(nps=10)], 0.5),
    ("nps", [answered(nps=10), answered(nps=9), answered(nps=8), answered(nps=3),
             answered(csat=5)], 0.25),
    ("survey_response",
     [*[("survey.invited", {"invited_at": D})] * 5, answered(csat=5, complete=True),
      answered(nps=1, complete=False), answered(nps=2, complete=True)], 0.4),
    ("complaint_rate",
     [*[closed()] * 10, ("complaint.opened", {"opened_at": D, "concerned_staff_id": ADVISOR})],
     0.1),
    ("complaint_interim_3d",
     [*[complaint("opened")] * 5,
      complaint("interim_answered", interim_answered_at=later(D, days=2)),
      complaint("interim_answered", interim_answered_at=later(D, days=5)),
      complaint("resolved", resolved_at=later(D, days=1)),  # solved at once
      complaint("resolved", interim_answered_at=later(D, days=2),
                resolved_at=later(D, days=2))], 0.4),
    ("complaint_call_2d",
     [*[complaint("resolved", resolved_at=D)] * 2,
      ("callback.completed", {"kind": "complaint", "resolved_at": D,
                              "callback_at": later(D, days=1)}),
      ("callback.completed", {"kind": "touchpoint", "resolved_at": D,
                              "callback_at": later(D, days=1)})], 0.5),
    ("dedicated_reception",
     [closed(dedicated_reception=True), closed(dedicated_reception=True),
      closed(dedicated_reception=False), closed()], 2 / 3),
    ("rework_rate", [closed(ro_type="rework"), closed(), closed(), closed()], 0.25),
    # Visits of March 2029 come due in March 2030; one of the two customers returned.
    ("retention",
     [closed(at(2029, 3, 11)), closed(at(2029, 3, 12)),
      closed(at(2029, 9, 1), previous_closed_at=at(2029, 3, 11))], 0.5),
    ("lapsed_share",
     [closed(at(2029, 3, 11)), closed(at(2029, 3, 12)), closed(at(2029, 3, 13)),
      closed(at(2029, 9, 1), previous_closed_at=at(2029, 3, 11))], 2 / 3),
    ("insurance_renewal",
     [*[("insurance.renewal_due", {"due_at": D})] * 4, ("insurance.renewed", {"due_at": D})],
     0.25),
    ("average_ticket", [closed(total_amount=500.0), closed(total_amount=1500.0)], 1000.0),
    ("campaign_conversion",
     [*[("campaign.targeted", {"targeted_at": D})] * 10,
      *[("campaign.converted", {"targeted_at": D})] * 3], 0.3),
    ("loyal_share",
     [closed(after_sales_loyal=True), closed(after_sales_loyal=False),
      closed(after_sales_loyal=False), closed(after_sales_loyal=True)], 0.5),
    ("staff_praise", [answered(praised_staff_ids=[str(ADVISOR)]),
                      answered(praised_staff_ids=[str(ADVISOR), str(uuid.uuid4())]),
                      answered(csat=5, advisor_staff_id=str(ADVISOR)), answered(csat=4)], 4.0),
    ("staff_criticism",
     [answered(criticised_staff_ids=[str(ADVISOR)]), answered(csat=2), answered(csat=3),
      ("complaint.opened", {"opened_at": D, "concerned_staff_id": str(ADVISOR)}),
      ("complaint.opened", {"opened_at": D, "concerned_staff_id": None})], 3.0),
]


def test_every_metric_has_a_case() -> None:
    assert {case[0] for case in CASES} == set(METRICS)
    assert len(METRICS_LIST) >= 19


@pytest.mark.parametrize(("key", "sequence", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_metric_from_events(dealer_factory, key, sequence, expected) -> None:
    dealer = await dealer_factory()
    for event_type, payload in sequence:
        await feed(dealer.id, event_type, **payload)
    month = await service.dealer_rollup(dealer.id, key, "month", MARCH)
    assert month is not None and month.value == pytest.approx(expected)
    # the same figure in the quarter containing the month
    for grain in ("quarter",):
        start = service.period_start(grain, date(2030, 3, 10))
        found = await service.dealer_rollup(dealer.id, key, grain, start)
        assert found is not None and found.value == pytest.approx(expected), grain


async def test_advisor_figures_are_kept_beside_the_dealer_total(dealer_a) -> None:
    await feed(dealer_a.id, *closed(ro_type="rework"))
    await feed(dealer_a.id, *closed(advisor_staff_id=str(uuid.uuid4())))
    mine = await service.dealer_rollup(dealer_a.id, "rework_rate", "month", MARCH, ADVISOR)
    total = await service.dealer_rollup(dealer_a.id, "rework_rate", "month", MARCH)
    assert mine is not None and mine.value == 1.0
    assert total is not None and total.value == 0.5


async def test_staff_scores_add_praise_and_subtract_criticism(dealer_a) -> None:
    other = uuid.uuid4()
    await feed(dealer_a.id, *answered(praised_staff_ids=[str(ADVISOR)], csat=4))
    await feed(dealer_a.id, *answered(praised_staff_ids=[str(ADVISOR)],
                                      criticised_staff_ids=[str(other)]))
    await feed(dealer_a.id, "complaint.opened", opened_at=D, concerned_staff_id=str(other))
    scores = {s.staff_id: s.score for s in await service.staff_scores(dealer_a.id, "month", MARCH)}
    assert scores[ADVISOR] == 100 + 2 * service.PRAISE_POINTS
    assert scores[other] == 100 - 2 * service.CRITICISM_POINTS


async def test_zero_denominator_is_no_data_not_zero(dealer_a) -> None:
    await feed(dealer_a.id, "appointment.completed", delivered_at=D)  # numerator only
    found = await service.dealer_rollup(dealer_a.id, "appointment_rate", "month", MARCH)
    assert found is not None and found.denominator == 0 and found.value is None
    assert METRICS["appointment_rate"].display(found.value) == "—"
    assert await service.dealer_rollup(dealer_a.id, "csat", "month", MARCH) is None
    card = await service.scorecard(dealer_a.id, "month", MARCH)
    assert card is not None and card.score is None
    assert all(line.value is None for line in card.lines)


async def test_redelivered_event_counts_once(dealer_a) -> None:
    event_id = await feed(dealer_a.id, *closed(ro_type="rework"))
    assert not await events.handle(event_id, tasks.CONSUMER)
    found = await service.dealer_rollup(dealer_a.id, "rework_rate", "month", MARCH)
    assert found is not None and (found.numerator, found.denominator) == (1, 1)


async def test_late_event_corrects_its_own_period(dealer_a) -> None:
    await feed(dealer_a.id, *closed(at(2030, 4, 2)))
    april_before = await service.dealer_rollup(
        dealer_a.id, "rework_rate", "month", date(2030, 4, 1))
    # arrives in April, but the visit closed on 31 March (Shanghai time): March changes
    await feed(dealer_a.id, *closed(at(2030, 3, 31, 15), ro_type="rework"))
    march = await service.dealer_rollup(dealer_a.id, "rework_rate", "month", MARCH)
    april = await service.dealer_rollup(dealer_a.id, "rework_rate", "month", date(2030, 4, 1))
    assert march is not None and march.value == 1.0
    assert april == april_before
    # 15:00 UTC on 31 March is 23:00 in Shanghai: still March, not April
    facts = await service.facts_for_day(dealer_a.id, date(2030, 3, 31))
    assert {f["metric_key"] for f in facts} >= {"rework_rate"}


async def test_local_day_follows_the_dealer_time_zone(dealer_factory) -> None:
    dealer = await dealer_factory(time_zone="Asia/Urumqi")  # UTC+6
    await feed(dealer.id, *closed(at(2030, 3, 31, 19)))  # 01:00 on 1 April in Urumqi
    assert await service.dealer_rollup(dealer.id, "rework_rate", "month", MARCH) is None
    assert await service.dealer_rollup(dealer.id, "rework_rate", "month", date(2030, 4, 1))


def response(invitation: uuid.UUID, answered_at: datetime = D,
             **extra: object) -> tuple[str, dict]:
    """One submission of a survey response: a perfect rating praising the advisor."""
    return "survey.answered", {
        "invitation_id": str(invitation), "answered_at": answered_at, "csat": 5, "nps": 10,
        "complete": True, "advisor_staff_id": str(ADVISOR),
        "praised_staff_ids": [str(ADVISOR)], "criticised_staff_ids": [], "flagged": False,
        **extra}


def reviewed(invitation: uuid.UUID, state: str) -> tuple[str, dict]:
    return "survey.flag_reviewed", {"invitation_id": str(invitation), "state": state,
                                    "decision": "clear" if state == "cleared" else "uphold"}


async def _survey_figures(dealer_id: uuid.UUID, month: date = MARCH) -> dict[str, tuple]:
    """CSAT (numerator, denominator), NPS answers, surveys answered in full and the
    advisor's praise."""
    csat = await service.dealer_rollup(dealer_id, "csat", "month", month)
    nps = await service.dealer_rollup(dealer_id, "nps", "month", month)
    answered_ = await service.dealer_rollup(dealer_id, "survey_response", "month", month)
    praise = await service.dealer_rollup(dealer_id, "staff_praise", "month", month, ADVISOR)
    return {"csat": (csat.numerator, csat.denominator) if csat else (0, 0),
            "nps": nps.denominator if nps else 0,
            "answered": answered_.numerator if answered_ else 0,
            "praise": praise.numerator if praise else 0}


NOTHING = {"csat": (0, 0), "nps": 0, "answered": 0, "praise": 0}
ONE = {"csat": (1, 1), "nps": 1, "answered": 1, "praise": 2}  # praised by name, and a 5 out of 5


async def test_a_flagged_answer_counts_only_while_cleared(dealer_a) -> None:
    staged = uuid.uuid4()
    await feed(dealer_a.id, *response(staged, flagged=True))
    assert await _survey_figures(dealer_a.id) == NOTHING
    cleared = await feed(dealer_a.id, *reviewed(staged, "cleared"))
    assert await _survey_figures(dealer_a.id) == ONE
    assert not await events.handle(cleared, tasks.CONSUMER)  # redelivered: no second effect
    assert await _survey_figures(dealer_a.id) == ONE
    upheld = await feed(dealer_a.id, *reviewed(staged, "upheld"))
    assert await _survey_figures(dealer_a.id) == NOTHING
    assert not await events.handle(upheld, tasks.CONSUMER)
    assert await _survey_figures(dealer_a.id) == NOTHING
    await feed(dealer_a.id, *reviewed(staged, "cleared"))  # decided once more
    assert await _survey_figures(dealer_a.id) == ONE


async def test_upholding_a_pending_answer_changes_nothing(dealer_a) -> None:
    staged, genuine = uuid.uuid4(), uuid.uuid4()
    await feed(dealer_a.id, *response(genuine))
    await feed(dealer_a.id, *response(staged, flagged=True, csat=1))
    await feed(dealer_a.id, *reviewed(staged, "upheld"))
    assert await _survey_figures(dealer_a.id) == ONE  # only the genuine answer


async def test_a_flag_on_a_later_part_takes_the_earlier_parts_out(dealer_a) -> None:
    """A response answered in two visits of the page: the first part counted, the second
    was flagged, so the whole response leaves the figures until it is cleared."""
    invitation = uuid.uuid4()
    await feed(dealer_a.id, *response(invitation, complete=False, nps=None))
    assert (await _survey_figures(dealer_a.id))["csat"] == (1, 1)
    await feed(dealer_a.id, *response(invitation, later(D, hours=1), csat=None,
                                      praised_staff_ids=[], flagged=True))
    assert await _survey_figures(dealer_a.id) == NOTHING
    await feed(dealer_a.id, *reviewed(invitation, "cleared"))
    assert await _survey_figures(dealer_a.id) == ONE
    # answered after clearing without a new flag: counted at once, and out with the rest
    await feed(dealer_a.id, *response(invitation, later(D, hours=2), csat=None, nps=9,
                                      complete=False, praised_staff_ids=[]))
    assert (await _survey_figures(dealer_a.id))["nps"] == 2
    await feed(dealer_a.id, *reviewed(invitation, "upheld"))
    assert await _survey_figures(dealer_a.id) == NOTHING


async def test_a_responses_events_are_found_by_index(dealer_a) -> None:
    """Looking up a response's earlier events must not read the whole outbox."""
    query = str(_facts.response_events(dealer_a.id, str(uuid.uuid4())))
    async with transaction():
        if db.is_postgres():
            await db.fetch("set local enable_seqscan = off")
            plan = await db.fetch(f"explain {query}")
        else:
            plan = await db.fetch(f"explain query plan {query}")
    assert "event_outbox_response_ix" in repr(plan)


async def _rollups(dealer_id: uuid.UUID) -> dict[tuple, tuple[float, float]]:
    rows = await MetricRollup.select().where(MetricRollup.dealer_id == dealer_id)
    return {
        (r["staff_id"], r["metric_key"], r["grain"], str(r["period_start"])):
        (round(r["numerator"], 9), round(r["denominator"], 9))
        for r in rows if r["numerator"] or r["denominator"]
    }


async def test_recompute_from_events_equals_incremental(dealer_a) -> None:
    sequence = [event for _, events_, _ in CASES for event in events_]
    sequence.append(closed(at(2030, 5, 20), ro_type="rework"))  # another month and quarter
    # survey responses flagged, cleared, upheld again, and split over two submissions
    staged, split = uuid.uuid4(), uuid.uuid4()
    sequence += [response(staged, flagged=True), reviewed(staged, "cleared"),
                 response(split, at(2030, 4, 2), complete=False),
                 response(split, at(2030, 4, 3), flagged=True, csat=None),
                 reviewed(split, "cleared"), reviewed(split, "upheld"),
                 response(uuid.uuid4(), at(2030, 5, 4), flagged=True)]
    for event_type, payload in sequence:
        await feed(dealer_a.id, event_type, **payload)
    incremental = await _rollups(dealer_a.id)
    assert len(incremental) > 100
    replayed = await service.recompute_facts(dealer_a.id, date(2029, 1, 1), date(2031, 12, 31))
    assert replayed == len(sequence)
    assert await _rollups(dealer_a.id) == incremental
    # and the rollups rebuilt set-based from the facts give the same numbers again
    await service.rebuild_all_rollups(date(2029, 1, 1), date(2031, 12, 30), dealer_a.id)
    assert await _rollups(dealer_a.id) == incremental


async def _all_rollups(dealer_id: uuid.UUID) -> dict[tuple, tuple[float, float]]:
    rows = await MetricRollup.select().where(MetricRollup.dealer_id == dealer_id)
    return {
        (r["staff_id"], r["metric_key"], r["grain"], str(r["period_start"])):
        (r["numerator"], r["denominator"])
        for r in rows
    }


async def test_rebuild_repairs_missing_changed_and_orphaned_rollups(
    dealer_a, dealer_factory
) -> None:
    dealer_b = await dealer_factory()
    for dealer in (dealer_a, dealer_b):
        await feed(dealer.id, *closed(ro_type="rework"))
        await feed(dealer.id, *closed(at(2030, 5, 20)))
    expected = {d.id: await _all_rollups(d.id) for d in (dealer_a, dealer_b)}
    march = (MetricRollup.grain == "month") & (MetricRollup.period_start == MARCH)
    may = (MetricRollup.grain == "month") & (MetricRollup.period_start == date(2030, 5, 1))
    for dealer in (dealer_a, dealer_b):
        mine = MetricRollup.dealer_id == dealer.id
        await MetricRollup.delete().where(mine & march & (MetricRollup.metric_key == "rework_rate"))
        await MetricRollup.update({MetricRollup.numerator: 7.0}).where(mine & may)
        await MetricRollup.insert(  # a rollup with no facts behind it
            MetricRollup(dealer_id=dealer.id, metric_key="csat", grain="month",
                         period_start=date(2030, 4, 1), numerator=3.0, denominator=4.0)
        )
    broken_b = await _all_rollups(dealer_b.id)
    assert broken_b != expected[dealer_b.id]

    await service.rebuild_all_rollups(date(2030, 1, 1), date(2030, 12, 31), dealer_a.id)
    assert await _all_rollups(dealer_a.id) == expected[dealer_a.id]
    assert await _all_rollups(dealer_b.id) == broken_b  # only the dealer asked for
    await service.rebuild_rollups("month", date(2030, 1, 1), date(2030, 12, 31))
    assert await _all_rollups(dealer_b.id) == expected[dealer_b.id]


async def test_closed_visit_is_resolved_from_the_dealers_repair_orders(dealer_a) -> None:
    from tests.tenants.factories import new_customer, new_vehicle, utc, visit

    vehicle = await new_vehicle(dealer_a.id, (await new_customer(dealer_a.id)).id)
    first = await visit(dealer_a.id, vehicle, utc(2025, 1, 5), amount="2000")
    second = await visit(dealer_a.id, vehicle, utc(2025, 3, 10), amount="1500")
    for ro in (first, second):
        await feed(dealer_a.id, "repair_order.closed", repair_order_id=str(ro.id),
                   customer_id=str(vehicle.customer_id), closed_at=ro.closed_at,
                   ro_type=ro.ro_type, total_amount=float(ro.total_amount),
                   advisor_staff_id=None)
    loyal = await service.dealer_rollup(dealer_a.id, "loyal_share", "month", date(2025, 3, 1))
    assert loyal is not None and loyal.value == 1.0  # second visit within 12 months
    retained = await service.dealer_rollup(dealer_a.id, "retention", "month", date(2026, 1, 1))
    assert retained is not None and retained.value == 1.0  # January 2025 visit came back


def test_benchmarked_metrics_have_weights_summing_to_100() -> None:
    assert sum(m.weight for m in BENCHMARKED) == 100


def test_period_boundaries() -> None:
    day = date(2030, 5, 15)  # a Wednesday
    assert service.period_start("week", day) == date(2030, 5, 13)
    assert service.period_start("quarter", day) == date(2030, 4, 1)
    assert service.period_end("quarter", date(2030, 10, 1)) == date(2031, 1, 1)
    assert service.period_end("week", date(2030, 5, 13)) == date(2030, 5, 20)


@pytest.mark.postgres
async def test_rollup_pages_keep_room_for_heap_only_rewrites(pg_owner_dsn: str) -> None:
    """A recompute rewrites a period's numbers in place only while pages have room."""
    import asyncpg

    connection = await asyncpg.connect(pg_owner_dsn)
    try:
        options = await connection.fetchval(
            "select reloptions from pg_class where relname = 'metric_rollup'")
    finally:
        await connection.close()
    assert options is not None and "fillfactor=50" in options


async def test_recompute_dealers_restores_history_and_names_unknown_dealers(
    dealer_a, dealer_factory
) -> None:
    """After a metric's new version its history is empty until the events are replayed."""
    dealer_b = await dealer_factory()
    for dealer in (dealer_a, dealer_b):
        await feed(dealer.id, *closed(ro_type="rework"))
    expected = {d.id: await _rollups(d.id) for d in (dealer_a, dealer_b)}
    await MetricRollup.delete().where(MetricRollup.dealer_id.is_in([dealer_a.id, dealer_b.id]))
    seen: list[tuple[str, int]] = []
    replayed = await service.recompute_dealers(
        date(2029, 1, 1), date(2032, 1, 1), [dealer_a.code], lambda c, n: seen.append((c, n)))
    assert replayed == {dealer_a.code: 1} and seen == [(dealer_a.code, 1)]
    assert await _rollups(dealer_a.id) == expected[dealer_a.id]
    assert await _rollups(dealer_b.id) == {}  # only the dealer named
    with pytest.raises(service.ScoringInputError, match="dealer: no such dealer: NOPE"):
        await service.recompute_dealers(date(2030, 1, 1), date(2031, 1, 1), ["NOPE"])
    with pytest.raises(service.ScoringInputError, match="until"):
        await service.recompute_dealers(date(2030, 1, 1), date(2030, 1, 1))


def test_recompute_scores_command_refuses_a_bad_date(capsys) -> None:
    from dealerhub import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["recompute-scores", "--since", "2030-13-01", "--until", "2031-01-01"])
    assert exit_info.value.code == 2
    assert "--since" in capsys.readouterr().err
