"""Benchmark distributions, percentile ranks, quartiles and suggested targets.

Distributions are precomputed per metric-version, period and group (national, region,
peer group = size band × tier) from the dealer rollups, and stored with their sorted
values (anonymous: no dealer ids; above 201 dealers a half-percentile sketch of them) so
a dealer's rank is a bisection, not a scan.
Low-confidence dealer-periods (denominator under the metric's `min_sample`) and dealers
without data are left out; a group of fewer than `MIN_GROUP` dealers is not stored.
"""

from __future__ import annotations

import bisect
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.scoring.metrics import BENCHMARKED, METRICS, Metric
from dealerhub.platform.scoring.tables import NO_STAFF, BenchmarkDistribution, MetricRollup
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import transaction

MIN_GROUP = 5
# Groups larger than this store a sketch of their distribution (every half percentile)
# instead of every value, so a dealer's view reads a few thousand numbers, not 60,000.
SKETCH_POINTS = 201


@dataclass(frozen=True)
class Distribution:
    metric_key: str
    group_key: str
    n: int
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    mean: float
    values: tuple[float, ...]

    def rank(self, value: float, higher_is_better: bool) -> float:
        """The share of dealers (0–100) this value does better than, ties counted half."""
        size = len(self.values)  # n, or the points of the sketch for large groups
        below = bisect.bisect_left(self.values, value)
        equal = bisect.bisect_right(self.values, value) - below
        worse = below if higher_is_better else size - below - equal
        return round(100.0 * (worse + equal / 2) / size, 1)

    def quartile(self, value: float, higher_is_better: bool) -> int:
        """1 = the best quarter of dealers … 4 = the weakest."""
        rank = self.rank(value, higher_is_better)
        return 1 if rank >= 75 else 2 if rank >= 50 else 3 if rank >= 25 else 4

    def suggested_target(self, value: float, higher_is_better: bool) -> float:
        """The next quartile boundary above the dealer (its own value once in the top)."""
        bounds = (self.p25, self.p50, self.p75)
        if higher_is_better:
            return next((b for b in bounds if b > value), value)
        return next((b for b in reversed(bounds) if b < value), value)


def summarise(values: list[float], metric_key: str, group_key: str) -> Distribution | None:
    if len(values) < MIN_GROUP:
        return None
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")  # 5 % steps
    if len(ordered) > SKETCH_POINTS:  # keep the view light: every half percentile
        inner = statistics.quantiles(ordered, n=SKETCH_POINTS - 1, method="inclusive")
        ordered = [ordered[0], *inner, ordered[-1]]
    return Distribution(
        metric_key,
        group_key,
        len(values),
        cuts[1],
        cuts[4],
        cuts[9],
        cuts[14],
        cuts[17],
        statistics.fmean(values),
        tuple(ordered),
    )


def dealer_groups(dealer: dict[str, Any]) -> list[str]:
    return [
        "national",
        f"region:{dealer['region']}",
        f"peer:{dealer['size_band']}:{dealer['tier']}",
    ]


async def period_values(grain: str, start: date) -> dict[str, dict[uuid.UUID, tuple[float, float]]]:
    """Per benchmarked metric (current version): dealer → (numerator, denominator)."""
    rows = await MetricRollup.select(
        MetricRollup.dealer_id,
        MetricRollup.metric_key,
        MetricRollup.metric_version,
        MetricRollup.numerator,
        MetricRollup.denominator,
    ).where(
        (MetricRollup.grain == grain)
        & (MetricRollup.period_start == start)
        & (MetricRollup.staff_id == NO_STAFF)
    )
    out: dict[str, dict[uuid.UUID, tuple[float, float]]] = defaultdict(dict)
    for row in rows:
        metric = METRICS.get(row["metric_key"])
        if metric is not None and metric.version == row["metric_version"]:
            out[metric.key][row["dealer_id"]] = (row["numerator"], row["denominator"])
    return out


def confident_value(metric: Metric, sums: tuple[float, float] | None) -> float | None:
    if sums is None or not sums[1] or sums[1] < metric.min_sample:
        return None
    return sums[0] / sums[1]


async def dealer_directory() -> dict[uuid.UUID, dict[str, Any]]:
    rows = await Dealer.select(
        Dealer.id, Dealer.code, Dealer.name, Dealer.region, Dealer.size_band, Dealer.tier
    ).where(Dealer.status == "active")
    return {row["id"]: row for row in rows}


async def dealer_info(dealer_id: uuid.UUID) -> dict[str, Any] | None:
    return await Dealer.select(
        Dealer.id, Dealer.code, Dealer.name, Dealer.region, Dealer.size_band, Dealer.tier
    ).where((Dealer.id == dealer_id) & (Dealer.status == "active")).first()


async def refresh_benchmarks(grain: str, start: date) -> int:
    """Recompute and store every distribution of one period; returns how many were stored."""
    dealers = await dealer_directory()
    values = await period_values(grain, start)
    rows: list[BenchmarkDistribution] = []
    now = datetime.now(UTC)
    for metric in BENCHMARKED:
        groups: dict[str, list[float]] = defaultdict(list)
        for dealer_id, sums in values.get(metric.key, {}).items():
            value = confident_value(metric, sums)
            if value is None or dealer_id not in dealers:
                continue
            for group in dealer_groups(dealers[dealer_id]):
                groups[group].append(value)
        for group, found in groups.items():
            summary = summarise(found, metric.key, group)
            if summary is None:
                continue
            rows.append(
                BenchmarkDistribution(
                    id=uuid.uuid4(),
                    created_at=now,
                    metric_key=metric.key,
                    metric_version=metric.version,
                    grain=grain,
                    period_start=start,
                    group_key=group,
                    n=summary.n,
                    p10=summary.p10,
                    p25=summary.p25,
                    p50=summary.p50,
                    p75=summary.p75,
                    p90=summary.p90,
                    mean=summary.mean,
                    sorted_values=list(summary.values),
                )
            )
    async with transaction():
        await BenchmarkDistribution.delete().where(
            (BenchmarkDistribution.grain == grain) & (BenchmarkDistribution.period_start == start)
        )
        for chunk in db.chunks(rows, 200):
            await BenchmarkDistribution.insert(*chunk)
    return len(rows)


async def distributions(
    grain: str, start: date, groups: list[str]
) -> dict[tuple[str, str], Distribution]:
    """Stored distributions of the current metric versions: (metric, group) → distribution."""
    if not groups:
        return {}
    rows = await db.fetch(
        "select metric_key, metric_version, group_key, n, p10, p25, p50, p75, p90, mean, "
        "sorted_values from benchmark_distribution where grain = {} and period_start = {} "
        f"and group_key in ({', '.join(['{}'] * len(groups))})",
        grain,
        start,
        *groups,
    )
    out: dict[tuple[str, str], Distribution] = {}
    for row in rows:
        metric = METRICS.get(row["metric_key"])
        if metric is None or metric.version != row["metric_version"]:
            continue  # a changed definition never mixes with old figures
        stored = row["sorted_values"]
        values = tuple(db_json(stored))
        out[(metric.key, row["group_key"])] = Distribution(
            metric.key, row["group_key"], row["n"], row["p10"], row["p25"], row["p50"],
            row["p75"], row["p90"], row["mean"], values,
        )
    return out


def db_json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
