"""Scoring tables: daily facts, period rollups, benchmark distributions, OEM settings, alerts.

These are the aggregate tables the OEM may read across dealers, so they are
`PlatformTable`s (no row-level security), and by design they hold no customer data: only
dealer ids, advisor staff ids, metric keys and versions, days/periods and sums. That is
what makes it safe to read them outside a tenant scope; nothing in them names a customer.
`dealer_id` leads every key, as `tenant_id` does on tenant tables (Citus co-location).
`staff_id` is `NO_STAFF` (the nil UUID) on the dealer's own total row, an advisor otherwise.
"""

from __future__ import annotations

import uuid

from piccolo.columns import JSONB, UUID, Date, Float, Integer, SmallInt, Varchar

from dealerhub.platform.db import PlatformTable

NO_STAFF = uuid.UUID(int=0)


class MetricFact(PlatformTable, tablename="metric_fact"):
    """One dealer's (or advisor's) numerator and denominator of one metric on one local day."""

    dealer_id = UUID()
    staff_id = UUID(default=NO_STAFF)
    metric_key = Varchar(length=48)
    metric_version = SmallInt(default=1)
    day = Date()
    numerator = Float(default=0.0)
    denominator = Float(default=0.0)


class MetricRollup(PlatformTable, tablename="metric_rollup"):
    """Sums of facts per week, month, quarter and year, maintained with every fact.

    `national_rank` (0–100) and `quartile` are filled when the benchmarks are refreshed.
    """

    dealer_id = UUID()
    staff_id = UUID(default=NO_STAFF)
    metric_key = Varchar(length=48)
    metric_version = SmallInt(default=1)
    grain = Varchar(length=8)
    period_start = Date()
    numerator = Float(default=0.0)
    denominator = Float(default=0.0)
    national_rank = Float(null=True, default=None)
    quartile = SmallInt(null=True, default=None)


class BenchmarkDistribution(PlatformTable, tablename="benchmark_distribution"):
    """The distribution of dealers' values for one metric-version, period and group.

    `group_key` is "national", "region:<id>" or "peer:<size band>:<tier>". Groups of fewer
    than 5 dealers are not stored.
    """

    metric_key = Varchar(length=48)
    metric_version = SmallInt(default=1)
    grain = Varchar(length=8)
    period_start = Date()
    group_key = Varchar(length=80)
    n = Integer()
    p10 = Float()
    p25 = Float()
    p50 = Float()
    p75 = Float()
    p90 = Float()
    mean = Float()
    sorted_values = JSONB(default=[])  # anonymous: values only, for percentile ranks


class ScoringSetting(PlatformTable, tablename="scoring_setting"):
    """The OEM's weight and target for a metric (absent: the declaration's defaults)."""

    metric_key = Varchar(length=48, unique=True)
    weight = Float()
    target = Float()
    updated_by = UUID(null=True, default=None)


class ScoringAlert(PlatformTable, tablename="scoring_alert"):
    """A dealer's weekly value that left its own usual band."""

    dealer_id = UUID()
    region_id = UUID(null=True, default=None)
    metric_key = Varchar(length=48)
    week_start = Date()
    value = Float()
    band = JSONB(default={})


TABLES = (MetricFact, MetricRollup, BenchmarkDistribution, ScoringSetting, ScoringAlert)
