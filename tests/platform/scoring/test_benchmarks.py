"""Distributions (p10…p90, mean, n), hidden small groups, low confidence, versioned
definitions, rank/quartile/suggested target/trend, composite score, weights, anomalies."""

from __future__ import annotations

import random
import statistics
import uuid
from datetime import date, timedelta

import pytest

from dealerhub.channels.messages.tables import Message
from dealerhub.platform import events
from dealerhub.platform.directory import regional_managers
from dealerhub.platform.scoring import service, tasks
from dealerhub.platform.scoring._facts import apply_facts
from dealerhub.platform.scoring.messages import ANOMALY_TEMPLATE
from dealerhub.platform.scoring.metrics import METRICS
from dealerhub.platform.scoring.tables import NO_STAFF, ScoringAlert, ScoringSetting
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from tests.conftest import create_regional_manager

pytestmark = pytest.mark.anyio


def lonely_month() -> date:
    """A month no other test writes to, so the national distribution is this test's."""
    return date(random.randint(3000, 9000), random.randint(1, 12), 1)


async def put(dealer_id: uuid.UUID, key: str, day: date, num: float, den: float,
              version: int | None = None) -> None:
    version = METRICS[key].version if version is None else version
    await apply_facts({(dealer_id, NO_STAFF, key, version, day): [num, den]})


async def dealers(factory, count: int, **fields: object) -> list[uuid.UUID]:
    return [(await factory(**fields)).id for _ in range(count)]


async def test_distribution_rank_quartile_and_suggested_target(dealer_factory) -> None:
    month = lonely_month()
    ids = await dealers(dealer_factory, 10)
    rates = [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95]
    for dealer_id, rate in zip(ids, rates, strict=True):
        await put(dealer_id, "csat", month, rate * 100, 100)
        await put(dealer_id, "rework_rate", month, rate * 10, 100)
    await service.refresh_benchmarks("month", month)
    dist = (await service.national_distributions("month", month))["csat"]
    cuts = statistics.quantiles(rates, n=20, method="inclusive")
    assert dist.n == 10
    assert (dist.p10, dist.p25, dist.p50, dist.p75, dist.p90) == pytest.approx(
        (cuts[1], cuts[4], cuts[9], cuts[14], cuts[17]))
    assert dist.mean == pytest.approx(statistics.fmean(rates))

    weak = await service.scorecard(ids[1], "month", month)
    assert weak is not None
    csat = next(line for line in weak.lines if line.metric.key == "csat")
    assert csat.rank == 15.0 and csat.quartile == 4
    assert csat.suggested_target == pytest.approx(dist.p25)  # the next boundary above
    # lower is better: the same dealer has the second-lowest rework rate, so ranks high
    rework = next(line for line in weak.lines if line.metric.key == "rework_rate")
    assert rework.rank == 85.0 and rework.quartile == 1
    assert rework.suggested_target == pytest.approx(rework.value)  # already in the top
    best = await service.scorecard(ids[-1], "month", month)
    top = next(line for line in best.lines if line.metric.key == "csat")  # type: ignore[union-attr]
    assert top.quartile == 1


async def test_groups_under_five_dealers_are_not_shown(dealer_factory) -> None:
    month = lonely_month()
    region = f"R{uuid.uuid4().hex[:6]}"
    small = await dealers(dealer_factory, 4, region_code=region)
    others = await dealers(dealer_factory, 1)
    for dealer_id in small + others:
        await put(dealer_id, "csat", month, 90, 100)
    await service.refresh_benchmarks("month", month)
    assert "csat" in await service.national_distributions("month", month)
    card = await service.scorecard(small[0], "month", month, group="region")
    assert card is not None
    line = next(line for line in card.lines if line.metric.key == "csat")
    assert line.value == 0.9 and line.distribution is None and line.rank is None
    # a period with fewer than five dealers has no distribution at all
    other_month = lonely_month()
    for dealer_id in small:
        await put(dealer_id, "csat", other_month, 90, 100)
    await service.refresh_benchmarks("month", other_month)
    assert await service.national_distributions("month", other_month) == {}


async def test_low_confidence_values_stay_out_of_the_distribution(dealer_factory) -> None:
    month = lonely_month()
    ids = await dealers(dealer_factory, 6)
    for dealer_id in ids[:5]:
        await put(dealer_id, "csat", month, 80, 100)
    await put(ids[5], "csat", month, 1, 3)  # 3 answers: below the minimum sample
    await service.refresh_benchmarks("month", month)
    assert (await service.national_distributions("month", month))["csat"].n == 5
    card = await service.scorecard(ids[5], "month", month)
    line = next(line for line in card.lines if line.metric.key == "csat")  # type: ignore[union-attr]
    assert line.low_confidence and line.value == pytest.approx(1 / 3)


async def test_a_changed_definition_never_mixes_with_old_figures(dealer_factory) -> None:
    month = lonely_month()
    ids = await dealers(dealer_factory, 5)
    for dealer_id in ids:
        await put(dealer_id, "csat", month, 50, 100, version=METRICS["csat"].version + 1)
    await put(ids[0], "csat", month, 90, 100)
    await service.refresh_benchmarks("month", month)
    assert "csat" not in await service.national_distributions("month", month)
    values = await service.dealer_values(ids[0], "month", month)
    assert values["csat"].value == 0.9  # only the current version is read


async def test_trend_against_the_previous_period(dealer_a) -> None:
    month = lonely_month()
    before = service.period_start("month", month - timedelta(days=1))
    await put(dealer_a.id, "csat", before, 70, 100)
    await put(dealer_a.id, "csat", month, 85, 100)
    card = await service.scorecard(dealer_a.id, "month", month)
    line = next(line for line in card.lines if line.metric.key == "csat")  # type: ignore[union-attr]
    assert line.trend == pytest.approx(0.15) and line.improving is True
    series = await service.metric_trend(dealer_a.id, "csat", "month", month, periods=3)
    assert [value for _, value in series] == [None, 0.7, 0.85]


async def test_composite_score_uses_weights_and_targets() -> None:
    settings = await service.current_settings()
    values = {
        "csat": service.MetricValue(METRICS["csat"], 45, 50),  # 0.9 = target → full points
        "rework_rate": service.MetricValue(METRICS["rework_rate"], 4, 100),  # twice the target
        "nps": service.MetricValue(METRICS["nps"], 0, 0),  # no data: left out
    }
    weight_csat = settings["csat"].weight
    weight_rework = settings["rework_rate"].weight
    expected = 100 * (weight_csat * 1.0 + weight_rework * 0.5) / (weight_csat + weight_rework)
    assert service.composite(values, settings) == pytest.approx(round(expected, 1))
    assert service.composite({}, settings) is None


async def test_weights_must_sum_to_100(database) -> None:
    with pytest.raises(service.ScoringInputError) as refused:
        await service.save_settings({"csat": 50}, {}, None)
    assert refused.value.field == "weights" and "sum to 140" in refused.value.message
    with pytest.raises(service.ScoringInputError) as unknown:
        await service.save_settings({"bogus": 1}, {}, None)
    assert unknown.value.field == "metric"
    try:
        saved = await service.save_settings({"csat": 16, "nps": 0}, {"csat": 0.95}, None)
        assert saved["csat"].weight == 16 and saved["csat"].target == 0.95
        assert sum(s.weight for s in saved.values()) == 100
    finally:
        await ScoringSetting.delete(force=True)


async def test_weekly_value_leaving_its_band_alerts(dealer_a) -> None:
    week = service.period_start("week", lonely_month())
    for back, rate in enumerate([0.90, 0.92, 0.88, 0.91, 0.89, 0.90, 0.92, 0.88], start=1):
        await put(dealer_a.id, "csat", week - timedelta(weeks=back), rate * 100, 100)
    await put(dealer_a.id, "csat", week, 60, 100)
    assert await service.detect_anomalies(week) >= 1
    assert await service.detect_anomalies(week) == 0  # once per dealer, metric and week
    alerts = await service.alerts_for(dealer_ids=[dealer_a.id])
    assert [a["metric_key"] for a in alerts] == ["csat"]
    assert alerts[0]["region_id"] == dealer_a.region_id
    event = await EventOutbox.objects().where(
        (EventOutbox.tenant_id == dealer_a.id) & (EventOutbox.event_type == "scoring.anomaly")
    ).first()
    assert event is not None
    regional = await create_regional_manager(dealer_a.region_id)
    assert await events.handle(event.id, tasks.ANOMALY_CONSUMER)  # the real consumer
    async with tenant_scope(dealer_a.id, write=False):
        told = {m.staff_user_id: m for m in await Message.objects_in_tenant().where(
            Message.template_key == ANOMALY_TEMPLATE)}
    admin = dealer_a.users["dealer_admin"]
    assert {admin, regional} <= set(told)  # other tests' managers of the shared test region too
    assert set(told) <= {admin, *await regional_managers(dealer_a.id)}
    assert METRICS["csat"].name_zh in told[regional].body and "/hq/scoring" in told[regional].body
    assert "60.0%" in told[dealer_a.users["dealer_admin"]].body  # the week's value, as shown
    await ScoringAlert.delete().where(ScoringAlert.dealer_id == dealer_a.id)


def test_band_rule() -> None:
    history = [0.9, 0.92, 0.88, 0.91, 0.89, 0.9, 0.92, 0.88]
    assert service.leaves_band(history, 0.85, higher_is_better=True) is not None
    assert service.leaves_band(history, 0.89, higher_is_better=True) is None
    assert service.leaves_band(history, 0.99, higher_is_better=False) is not None
    assert service.leaves_band(history[:3], 0.1, higher_is_better=True) is None


def test_large_groups_keep_a_sketch_with_ranks_within_a_point() -> None:
    from dealerhub.platform.scoring._benchmarks import SKETCH_POINTS, summarise

    values = [float(v) for v in range(3000)]
    dist = summarise(values, "csat", "national")
    assert dist is not None and dist.n == 3000 and len(dist.values) == SKETCH_POINTS
    assert dist.p50 == pytest.approx(statistics.median(values))
    for value in (10.0, 750.0, 1500.0, 2990.0):
        exact = 100 * (value + 0.5) / 3000
        assert dist.rank(value, higher_is_better=True) == pytest.approx(exact, abs=1.0)
