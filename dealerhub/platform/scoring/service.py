"""Scoring's business rules: metric values, the composite score, benchmarks, alerts.

Reads only the aggregate tables (see `tables.py`): the OEM reads them across dealers; a
dealer's own view is built from its own rollups plus anonymous distributions.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dealerhub.channels import service as channels
from dealerhub.platform import db, events
from dealerhub.platform.config import get_settings
from dealerhub.platform.directory import dealer_admins, dealer_zone, regional_managers
from dealerhub.platform.scoring._benchmarks import (
    MIN_GROUP,
    Distribution,
    dealer_directory,
    dealer_groups,
    dealer_info,
    distributions,
    refresh_benchmarks,
)
from dealerhub.platform.scoring._facts import (
    GRAINS,
    consume,
    local_day,
    period_end,
    period_start,
    previous_period,
    rebuild_all_rollups,
    rebuild_rollups,
    recompute_facts,
)
from dealerhub.platform.scoring.messages import ANOMALY_TEMPLATE
from dealerhub.platform.scoring.metrics import (
    BENCHMARKED,
    METRICS,
    SERVICE_CHAIN,
    STEP_NAMES,
    Metric,
    MetricValue,
)
from dealerhub.platform.scoring.tables import (
    NO_STAFF,
    MetricRollup,
    ScoringAlert,
    ScoringSetting,
)
from dealerhub.platform.tables import Dealer, EventOutbox
from dealerhub.platform.tenancy import tenant_scope, transaction

__all__ = [
    "GRAINS",
    "MIN_GROUP",
    "SERVICE_CHAIN",
    "STEP_NAMES",
    "consume",
    "period_end",
    "period_start",
    "rebuild_all_rollups",
    "rebuild_rollups",
    "recompute_facts",
    "refresh_benchmarks",
]
PRAISE_POINTS = 2.0
CRITICISM_POINTS = 5.0
ANOMALY_WEEKS = 8
ANOMALY_SIGMAS = 2.0


class ScoringInputError(ValueError):
    """Bad input, naming the field: routes turn it into a 400."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_period(grain: str, period: str | None, today: date | None = None) -> date:
    """`grain` and an ISO date inside the period (default: the last complete period)."""
    if grain not in GRAINS:
        raise ScoringInputError("grain", f"must be one of {', '.join(GRAINS)}")
    if not period:
        return previous_period(grain, period_start(grain, today or datetime.now(UTC).date()))
    try:
        return period_start(grain, date.fromisoformat(period))
    except ValueError:
        raise ScoringInputError("period", "must be a date such as 2026-10-01") from None


# --- settings: weights and targets -------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    metric: Metric
    weight: float
    target: float


async def current_settings() -> dict[str, Setting]:
    stored = {row["metric_key"]: row for row in await ScoringSetting.select()}
    out = {}
    for metric in BENCHMARKED:
        row = stored.get(metric.key)
        out[metric.key] = Setting(
            metric,
            row["weight"] if row else metric.weight,
            row["target"] if row else metric.target,
        )
    return out


async def save_settings(
    weights: dict[str, float], targets: dict[str, float], user_id: uuid.UUID | None
) -> dict[str, Setting]:
    """The OEM's weights (summing to 100) and targets; unknown metrics are refused."""
    unknown = sorted((set(weights) | set(targets)) - {m.key for m in BENCHMARKED})
    if unknown:
        raise ScoringInputError("metric", f"unknown metric {unknown[0]!r}")
    for key, weight in weights.items():
        if weight < 0:
            raise ScoringInputError(f"weight.{key}", "cannot be negative")
    for key, target in targets.items():
        if target <= 0 and METRICS[key].direction == "higher":
            raise ScoringInputError(f"target.{key}", "must be above 0")
    current = await current_settings()
    merged = {k: weights.get(k, s.weight) for k, s in current.items()}
    total = round(sum(merged.values()), 6)
    if total != 100:
        raise ScoringInputError("weights", f"must sum to 100 (they sum to {total:g})")
    async with transaction():
        for key, setting in current.items():
            await ScoringSetting.delete().where(ScoringSetting.metric_key == key)
            await ScoringSetting.insert(
                ScoringSetting(
                    metric_key=key,
                    weight=merged[key],
                    target=targets.get(key, setting.target),
                    updated_by=user_id,
                )
            )
    return await current_settings()


def attainment(metric: Metric, value: float, target: float) -> float:
    """0–1: how far the value reaches its target (lower-is-better metrics inverted)."""
    if metric.higher_is_better:
        return max(0.0, min(1.0, value / target)) if target > 0 else 1.0
    if value <= target:
        return 1.0
    return max(0.0, min(1.0, target / value)) if value > 0 else 1.0


def composite(values: dict[str, MetricValue], settings: dict[str, Setting]) -> float | None:
    """The 100-point score over the weighted metrics that have data (weights re-normalised)."""
    weight_sum = 0.0
    points = 0.0
    for key, setting in settings.items():
        found = values.get(key)
        if setting.weight <= 0 or found is None or found.value is None:
            continue
        weight_sum += setting.weight
        points += setting.weight * attainment(setting.metric, found.value, setting.target)
    return round(100 * points / weight_sum, 1) if weight_sum else None


# --- values ---------------------------------------------------------------------------------


async def rollup_values(
    grain: str, start: date, dealer_ids: list[uuid.UUID] | None = None, by_staff: bool = False
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, MetricValue]]:
    """(dealer, staff) → metric → value for one period, current metric versions only."""
    query = MetricRollup.select(
        MetricRollup.dealer_id,
        MetricRollup.staff_id,
        MetricRollup.metric_key,
        MetricRollup.metric_version,
        MetricRollup.numerator,
        MetricRollup.denominator,
    ).where((MetricRollup.grain == grain) & (MetricRollup.period_start == start))
    if not by_staff:
        query = query.where(MetricRollup.staff_id == NO_STAFF)
    if dealer_ids is not None:
        query = query.where(MetricRollup.dealer_id.is_in(dealer_ids or [uuid.uuid4()]))
    out: dict[tuple[uuid.UUID, uuid.UUID], dict[str, MetricValue]] = {}
    for row in await query:
        metric = METRICS.get(row["metric_key"])
        if metric is None or metric.version != row["metric_version"]:
            continue
        out.setdefault((row["dealer_id"], row["staff_id"]), {})[metric.key] = MetricValue(
            metric, row["numerator"], row["denominator"]
        )
    return out


async def dealer_values(dealer_id: uuid.UUID, grain: str, start: date) -> dict[str, MetricValue]:
    found = await rollup_values(grain, start, [dealer_id])
    return found.get((dealer_id, NO_STAFF), {})


@dataclass
class MetricLine:
    """One metric of one dealer-period as a scorecard shows it."""

    metric: Metric
    value: float | None
    denominator: float
    low_confidence: bool
    previous: float | None
    target: float
    weight: float
    distribution: Distribution | None
    rank: float | None = None
    quartile: int | None = None
    suggested_target: float | None = None
    attainment: float | None = None

    @property
    def trend(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def improving(self) -> bool | None:
        if self.trend is None or self.trend == 0:
            return None
        return (self.trend > 0) == self.metric.higher_is_better


@dataclass
class Scorecard:
    dealer_id: uuid.UUID
    grain: str
    period_start: date
    score: float | None
    lines: list[MetricLine]
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def weakest(self) -> list[MetricLine]:
        """The three weakest metrics with data: lowest national rank, else attainment."""
        ranked = [line for line in self.lines if line.value is not None]
        ranked.sort(
            key=lambda line: (
                line.rank if line.rank is not None else 100 * (line.attainment or 0),
                line.attainment or 0,
            )
        )
        return ranked[:3]


async def scorecard(
    dealer_id: uuid.UUID, grain: str, start: date, group: str = "national"
) -> Scorecard | None:
    """The dealer's own figures against the anonymous distribution of `group`."""
    dealer = await dealer_info(dealer_id)
    if dealer is None:
        return None
    group_key = group if group == "national" else next(
        (g for g in dealer_groups(dealer) if g.startswith(group + ":")), "national"
    )
    settings = await current_settings()
    values = await dealer_values(dealer_id, grain, start)
    previous = await dealer_values(dealer_id, grain, previous_period(grain, start))
    dists = await distributions(grain, start, [group_key])
    lines = []
    for metric in BENCHMARKED:
        found = values.get(metric.key)
        value = found.value if found else None
        before = previous.get(metric.key)
        setting = settings[metric.key]
        line = MetricLine(
            metric=metric,
            value=value,
            denominator=found.denominator if found else 0.0,
            low_confidence=bool(found and found.low_confidence),
            previous=before.value if before else None,
            target=setting.target,
            weight=setting.weight,
            distribution=dists.get((metric.key, group_key)),
        )
        if value is not None:
            line.attainment = attainment(metric, value, setting.target)
            if line.distribution is not None:
                line.rank = line.distribution.rank(value, metric.higher_is_better)
                line.quartile = line.distribution.quartile(value, metric.higher_is_better)
                line.suggested_target = line.distribution.suggested_target(
                    value, metric.higher_is_better
                )
        lines.append(line)
    card = Scorecard(dealer_id, grain, start, composite(values, settings), lines)
    card.alerts = await alerts_for(dealer_ids=[dealer_id])
    return card


@dataclass
class LeagueRow:
    dealer: dict[str, Any]
    score: float | None
    previous_score: float | None
    values: dict[str, MetricValue]

    @property
    def movement(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, 1)


async def league_table(
    grain: str, start: date, region_id: uuid.UUID | None = None
) -> list[LeagueRow]:
    """Every dealer's composite score for the period, best first (headquarters only)."""
    dealers = await dealer_directory()
    if region_id is not None:
        dealers = {k: v for k, v in dealers.items() if v["region"] == region_id}
    settings = await current_settings()
    now = await rollup_values(grain, start)
    before = await rollup_values(grain, previous_period(grain, start))
    rows = [
        LeagueRow(
            dealer,
            composite(now.get((dealer_id, NO_STAFF), {}), settings),
            composite(before.get((dealer_id, NO_STAFF), {}), settings),
            now.get((dealer_id, NO_STAFF), {}),
        )
        for dealer_id, dealer in dealers.items()
    ]
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.dealer["code"]))
    return rows


async def national_distributions(grain: str, start: date, group: str = "national") -> dict:
    found = await distributions(grain, start, [group])
    return {metric: dist for (metric, _), dist in found.items()}


async def region_summary(grain: str, start: date) -> list[dict[str, Any]]:
    """Per region: dealers, mean composite score, and its weakest service-chain step."""
    from dealerhub.platform.tables import Region

    regions = {row["id"]: row for row in await Region.select()}
    league = await league_table(grain, start)
    by_region: dict[uuid.UUID, list[LeagueRow]] = {}
    for row in league:
        by_region.setdefault(row.dealer["region"], []).append(row)
    settings = await current_settings()
    out = []
    for region_id, rows in by_region.items():
        scores = [r.score for r in rows if r.score is not None]
        steps: dict[str, list[float]] = {}
        for row in rows:
            for key, found in row.values.items():
                if key in settings and found.value is not None:
                    steps.setdefault(METRICS[key].step, []).append(
                        attainment(METRICS[key], found.value, settings[key].target)
                    )
        weakest = min(steps, key=lambda s: statistics.fmean(steps[s])) if steps else None
        region = regions.get(region_id, {})
        out.append(
            {
                "id": region_id,
                "code": region.get("code", ""),
                "name_zh": region.get("name_zh", ""),
                "name_en": region.get("name_en", ""),
                "dealers": len(rows),
                "score": round(statistics.fmean(scores), 1) if scores else None,
                "weakest_step": weakest,
            }
        )
    out.sort(key=lambda r: r["code"])
    return out


@dataclass
class StaffScore:
    staff_id: uuid.UUID
    score: float
    praise: float
    criticism: float
    values: dict[str, MetricValue]


async def staff_scores(dealer_id: uuid.UUID, grain: str, start: date) -> list[StaffScore]:
    """100 points each, plus for praise and minus for criticism (surveys and complaints)."""
    found = await rollup_values(grain, start, [dealer_id], by_staff=True)
    out = []
    for (_, staff_id), values in found.items():
        if staff_id == NO_STAFF:
            continue
        praise = values["staff_praise"].numerator if "staff_praise" in values else 0.0
        criticism = values["staff_criticism"].numerator if "staff_criticism" in values else 0.0
        score = 100 + PRAISE_POINTS * praise - CRITICISM_POINTS * criticism
        out.append(StaffScore(staff_id, score, praise, criticism, values))
    out.sort(key=lambda s: -s.score)
    return out


# --- anomaly alerts ------------------------------------------------------------------------


def leaves_band(history: list[float], value: float, higher_is_better: bool) -> dict | None:
    """The band, when `value` is more than 2 σ on the bad side of the trailing mean."""
    if len(history) < 4:
        return None
    mean = statistics.fmean(history)
    sd = statistics.stdev(history)
    if sd == 0:
        return None
    worse = value < mean - ANOMALY_SIGMAS * sd if higher_is_better else (
        value > mean + ANOMALY_SIGMAS * sd
    )
    return {"mean": mean, "sd": sd, "weeks": len(history)} if worse else None


async def detect_anomalies(week: date) -> int:
    """Alert on every dealer whose value for `week` left its own trailing 8-week band."""
    week = period_start("week", week)
    first = week - timedelta(weeks=ANOMALY_WEEKS)
    rows = await MetricRollup.select(
        MetricRollup.dealer_id,
        MetricRollup.metric_key,
        MetricRollup.metric_version,
        MetricRollup.period_start,
        MetricRollup.numerator,
        MetricRollup.denominator,
    ).where(
        (MetricRollup.grain == "week")
        & (MetricRollup.staff_id == NO_STAFF)
        & (MetricRollup.period_start >= first)
        & (MetricRollup.period_start <= week)
    )
    series: dict[tuple[uuid.UUID, str], dict[date, float]] = {}
    for row in rows:
        metric = METRICS.get(row["metric_key"])
        if metric is None or not metric.benchmarked or metric.version != row["metric_version"]:
            continue
        if row["denominator"] < max(1, metric.min_sample // 4):
            continue
        start = row["period_start"]
        start = start if isinstance(start, date) else date.fromisoformat(str(start))
        series.setdefault((row["dealer_id"], metric.key), {})[start] = (
            row["numerator"] / row["denominator"]
        )
    dealers = await dealer_directory()
    raised = 0
    for (dealer_id, key), by_week in series.items():
        if week not in by_week or dealer_id not in dealers:
            continue
        history = [v for d, v in by_week.items() if d < week]
        band = leaves_band(history, by_week[week], METRICS[key].higher_is_better)
        if band is None:
            continue
        async with tenant_scope(dealer_id):
            exists = await ScoringAlert.exists().where(
                (ScoringAlert.dealer_id == dealer_id)
                & (ScoringAlert.metric_key == key)
                & (ScoringAlert.week_start == week)
            )
            if exists:
                continue
            await ScoringAlert.insert(
                ScoringAlert(
                    dealer_id=dealer_id,
                    region_id=dealers[dealer_id]["region"],
                    metric_key=key,
                    week_start=week,
                    value=by_week[week],
                    band=band,
                )
            )
            await events.emit(
                "scoring.anomaly",
                {"metric_key": key, "week_start": week.isoformat(), "value": by_week[week],
                 "region_id": dealers[dealer_id]["region"], **band},
            )
        raised += 1
    return raised


async def alert_anomaly(dealer_id: uuid.UUID, anomaly: dict[str, Any]) -> int:
    """The dealer's admins and its region's OEM regional managers hear of a week that left
    the dealer's usual band (DOMAIN.md); returns how many people were told."""
    metric = METRICS.get(anomaly.get("metric_key", ""))
    if metric is None:
        return 0
    dealer = await Dealer.select(Dealer.name).where(Dealer.id == dealer_id).first()
    base = get_settings().public_base_url
    context = {"metric_zh": metric.name_zh, "metric_en": metric.name_en,
               "dealer_name": dealer["name"] if dealer else "",
               "week": anomaly.get("week_start", ""), "value": metric.display(anomaly.get("value")),
               "usual": metric.display(anomaly.get("mean"))}
    people = [(user_id, f"{base}/scorecard") for user_id in await dealer_admins(dealer_id)]
    people += [(user_id, f"{base}/hq/scoring") for user_id in await regional_managers(dealer_id)]
    for user_id, url in people:
        await channels.enqueue_staff_message(dealer_id, ANOMALY_TEMPLATE, {**context, "url": url},
                                             user_id=user_id, related={"metric": metric.key})
    return len(people)


async def alerts_for(
    dealer_ids: list[uuid.UUID] | None = None, region_id: uuid.UUID | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    query = ScoringAlert.select().order_by(ScoringAlert.week_start, ascending=False).limit(limit)
    if dealer_ids is not None:
        query = query.where(ScoringAlert.dealer_id.is_in(dealer_ids or [uuid.uuid4()]))
    if region_id is not None:
        query = query.where(ScoringAlert.region_id == region_id)
    rows = await query.output(load_json=True)
    for row in rows:
        row["metric"] = METRICS.get(row["metric_key"])
    return rows


async def facts_for_day(dealer_id: uuid.UUID, day: date) -> list[dict[str, Any]]:
    """A dealer's facts of one day (diagnostics and tests)."""
    return await db.fetch(
        "select metric_key, staff_id, numerator, denominator from metric_fact "
        "where dealer_id = {} and day = {}",
        dealer_id,
        day,
    )


async def dealer_rollup(
    dealer_id: uuid.UUID, key: str, grain: str, start: date, staff_id: uuid.UUID = NO_STAFF
) -> MetricValue | None:
    metric = METRICS[key]
    row = (
        await MetricRollup.select(MetricRollup.numerator, MetricRollup.denominator)
        .where(
            (MetricRollup.dealer_id == dealer_id)
            & (MetricRollup.staff_id == staff_id)
            & (MetricRollup.metric_key == key)
            & (MetricRollup.metric_version == metric.version)
            & (MetricRollup.grain == grain)
            & (MetricRollup.period_start == start)
        )
        .first()
    )
    return MetricValue(metric, row["numerator"], row["denominator"]) if row else None


async def metric_trend(
    dealer_id: uuid.UUID, key: str, grain: str, start: date, periods: int = 12
) -> list[tuple[date, float | None]]:
    """The dealer's value over the last `periods` periods up to `start`."""
    metric = METRICS[key]
    starts = [start]
    for _ in range(periods - 1):
        starts.append(previous_period(grain, starts[-1]))
    rows = await MetricRollup.select(
        MetricRollup.period_start, MetricRollup.numerator, MetricRollup.denominator
    ).where(
        (MetricRollup.dealer_id == dealer_id)
        & (MetricRollup.staff_id == NO_STAFF)
        & (MetricRollup.metric_key == key)
        & (MetricRollup.metric_version == metric.version)
        & (MetricRollup.grain == grain)
        & (MetricRollup.period_start.is_in(starts))
    )
    found = {
        (r["period_start"] if isinstance(r["period_start"], date)
         else date.fromisoformat(str(r["period_start"]))):
        MetricValue(metric, r["numerator"], r["denominator"]).value
        for r in rows
    }
    return [(s, found.get(s)) for s in reversed(starts)]


async def recompute_dealers(
    start: date, end: date, dealer_codes: list[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Replay the events of the named dealers (all when none are named) into facts and
    rollups for days in [start, end): after a metric's definition gets a new version its
    history is empty until replayed. Returns the events replayed per dealer code."""
    if end <= start:
        raise ScoringInputError("until", "must be after since")
    query = Dealer.select(Dealer.id, Dealer.code).order_by(Dealer.code)
    if dealer_codes:
        query = query.where(Dealer.code.is_in(dealer_codes))
    dealers = await query
    unknown = sorted(set(dealer_codes or []) - {d["code"] for d in dealers})
    if unknown:
        raise ScoringInputError("dealer", f"no such dealer: {', '.join(unknown)}")
    replayed = {}
    for dealer in dealers:
        replayed[dealer["code"]] = await recompute_facts(dealer["id"], start, end)
        if progress is not None:
            progress(dealer["code"], replayed[dealer["code"]])
    return replayed


async def periodic_refresh(today: date | None = None) -> None:
    """Refresh the last complete and the current periods' benchmarks, and weekly alerts."""
    today = today or datetime.now(UTC).date()
    for grain in GRAINS:
        current = period_start(grain, today)
        for start in (previous_period(grain, current), current):
            await refresh_benchmarks(grain, start)
    await detect_anomalies(previous_period("week", period_start("week", today)))


@dataclass(frozen=True)
class Record:
    """One event behind a dealer's metric: what it added, and the object it is about."""

    event_type: str
    day: date
    numerator: float
    denominator: float
    object_kind: str
    object_id: str | None
    customer_id: str | None


RECORD_SCAN_LIMIT = 20_000


async def metric_records(
    dealer_id: uuid.UUID, key: str, grain: str, start: date, limit: int = 100
) -> list[Record]:
    """The dealer's own events that make up a metric in a period (newest events first)."""
    metric = METRICS.get(key)
    if metric is None:
        raise ScoringInputError("metric", f"unknown metric {key!r}")
    end = period_end(grain, start)
    zone = await dealer_zone(dealer_id)
    found: list[Record] = []
    async with tenant_scope(dealer_id, write=False):
        rows = (
            await EventOutbox.select(EventOutbox.event_type, EventOutbox.payload)
            .where(EventOutbox.tenant_id == dealer_id)
            .where(EventOutbox.event_type.is_in(sorted(metric.sources)))
            .order_by(EventOutbox.occurred_at, ascending=False)
            .limit(RECORD_SCAN_LIMIT)
            .output(load_json=True)
        )
    for row in rows:
        payload = row["payload"]
        for part in metric.contributions(row["event_type"], payload):
            day = local_day(part.at, zone)
            if start <= day < end:
                kind, object_id = next(
                    ((name.removesuffix("_id"), payload[name]) for name in OBJECT_IDS
                     if payload.get(name)),
                    ("", None),
                )
                found.append(
                    Record(row["event_type"], day, part.numerator, part.denominator, kind,
                           object_id, payload.get("customer_id"))
                )
        if len(found) >= limit:
            break
    return found


OBJECT_IDS = (
    "repair_order_id",
    "appointment_id",
    "complaint_id",
    "invitation_id",
    "touchpoint_id",
    "message_id",
)


async def staff_names(dealer_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The dealer's staff names (for its own scorecard and the OEM's advisor drill)."""
    from dealerhub.tenants.staff import service as staff

    return {row.id: row.name for row in await staff.list_staff(dealer_id)}


def parse_settings_form(form: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    """`weight.<metric>` and `target.<metric>` fields → numbers; a bad one names its field."""
    weights: dict[str, float] = {}
    targets: dict[str, float] = {}
    for name, raw in form.items():
        kind, _, key = name.partition(".")
        if kind not in ("weight", "target") or not key:
            continue
        try:
            number = float(raw)
        except ValueError:
            raise ScoringInputError(name, "must be a number") from None
        (weights if kind == "weight" else targets)[key] = number
    return weights, targets
