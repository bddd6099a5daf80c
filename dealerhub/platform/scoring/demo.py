"""Demo figures: 24 months of plausible daily facts for every demo dealer, their rollups,
benchmarks and alerts, so the headquarters console and the scorecards are alive in
`make run`. Registered in `dealerhub.demo.SEED_HOOKS`.

Each dealer gets a skill level; each metric a national base, a spread between dealers,
a slow trend, a season and daily noise (numpy, one array per dealer and metric).
The last nine weeks are written day by day; before that, and for advisors, one fact per
week (on its Monday) keeps the seed fast on SQLite: months still add up, only the days
inside older weeks are merged.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from dealerhub.platform.scoring import service
from dealerhub.platform.scoring._facts import insert_new_facts
from dealerhub.platform.scoring.metrics import METRICS
from dealerhub.platform.scoring.tables import NO_STAFF
from dealerhub.platform.tables import Dealer

MONTHS = 24
RECENT_WEEKS = timedelta(weeks=12)  # weekly benchmarks for the last quarter
DAILY_WEEKS = timedelta(weeks=9)  # day by day recently; before that one fact per week
VISITS_PER_DAY = {"large": 38, "medium": 24, "small": 14}
# metric: (national base value, spread across dealers, denominator per visit)
PROFILE: dict[str, tuple[float, float, float]] = {
    "appointment_rate": (0.55, 0.15, 1.0),
    "response_sla": (0.88, 0.08, 0.5),
    "reminder_72h": (0.9, 0.08, 0.45),
    "reminder_24h": (0.93, 0.05, 0.5),
    "contact_48h": (0.82, 0.12, 1.0),
    "callback_rate": (0.75, 0.12, 0.9),
    "csat": (0.88, 0.06, 0.35),
    "nps": (0.42, 0.18, 0.3),
    "survey_response": (0.32, 0.08, 1.0),
    "complaint_rate": (0.025, 0.012, 1.0),
    "complaint_interim_3d": (0.9, 0.08, 0.025),
    "complaint_call_2d": (0.88, 0.1, 0.022),
    "dedicated_reception": (0.6, 0.15, 0.6),
    "rework_rate": (0.025, 0.012, 1.0),
    "retention": (0.68, 0.1, 0.95),
    "lapsed_share": (0.32, 0.1, 0.95),
    "insurance_renewal": (0.55, 0.12, 0.15),
    "average_ticket": (1150.0, 180.0, 1.0),
    "campaign_conversion": (0.12, 0.05, 0.6),
    "loyal_share": (0.48, 0.1, 1.0),
}
ADVISOR_METRICS = ("appointment_rate", "rework_rate", "dedicated_reception", "average_ticket")


def _dealer_rows(
    gen: np.random.Generator, dealer: Dealer, advisors: list[uuid.UUID], first: date, today: date
) -> list[tuple[Any, ...]]:
    days = [first + timedelta(days=i) for i in range((today - first).days)]
    months = np.array([(d.year - first.year) * 12 + d.month - first.month for d in days])
    sunday = np.array([0.6 if d.weekday() == 6 else 1.0 for d in days])
    mondays = [service.period_start("week", d) for d in days]
    recent = service.period_start("week", today - DAILY_WEEKS)
    skill = gen.uniform(-1, 1)
    visits = VISITS_PER_DAY.get(dealer.size_band, 24)
    rows: list[tuple[Any, ...]] = []
    for key, (base, spread, per_visit) in PROFILE.items():
        metric = METRICS[key]
        better = 1.0 if metric.higher_is_better else -1.0
        den = gen.poisson(visits * per_visit * sunday)
        value = (
            base + better * spread * (skill + 0.3 * months / MONTHS)
            + 0.15 * spread * np.sin(months / 12 * 2 * np.pi)
            + gen.normal(0, spread * 0.25, len(days))
        )
        if key == "average_ticket":
            num = np.round(den * np.maximum(value, 300.0), 2)
        elif key == "nps":
            num = np.round(den * np.clip(value, -1, 1), 2)
        else:
            num = gen.binomial(den, np.clip(value, 0, 1)).astype(float)
        staff = gen.integers(0, max(1, len(advisors)), len(days))
        weekly: dict[tuple[uuid.UUID, date], list[float]] = {}
        dealer_days: dict[date, list[float]] = {}
        for index, day in enumerate(days):
            if den[index] == 0:
                continue
            sums = dealer_days.setdefault(day if day >= recent else mondays[index], [0.0, 0.0])
            sums[0] += float(num[index])
            sums[1] += float(den[index])
            if key in ADVISOR_METRICS and advisors:
                sums = weekly.setdefault((advisors[staff[index]], mondays[index]), [0.0, 0.0])
                sums[0] += float(num[index])
                sums[1] += float(den[index])
        rows += [(dealer.id, NO_STAFF, key, metric.version, d, n, den_)
                 for d, (n, den_) in dealer_days.items()]
        rows += [(dealer.id, s, key, metric.version, m, n, d) for (s, m), (n, d) in weekly.items()]
    for advisor in advisors:
        for monday in sorted(set(mondays))[::4]:
            for key, count in (("staff_praise", gen.integers(0, 5)),
                               ("staff_criticism", gen.integers(0, 3))):
                if count:
                    rows.append((dealer.id, advisor, key, 1, monday, float(count), 0.0))
    return rows


def demo_facts(
    gen: np.random.Generator, dealers: Sequence[Dealer],
    advisors: dict[uuid.UUID, list[uuid.UUID]], today: date,
) -> list[tuple[Any, ...]]:
    """(dealer, staff, metric, version, day, numerator, denominator) for every demo day."""
    first = service.period_start("month", today)
    for _ in range(MONTHS - 1):
        first = service.period_start("month", first - timedelta(days=1))
    rows: list[tuple[Any, ...]] = []
    for dealer in dealers:
        rows += _dealer_rows(gen, dealer, advisors.get(dealer.id, []), first, today)
    return rows


async def seed_demo(rng: random.Random, dealers: Sequence[Dealer], _customers: int) -> None:
    from dealerhub.tenants.staff import service as staff

    gen = np.random.default_rng(rng.getrandbits(64))
    advisors = {
        dealer.id: [s.id for s in await staff.list_staff(dealer.id, "service_advisor")]
        for dealer in dealers
    }
    today = datetime.now(UTC).date()
    rows = demo_facts(gen, dealers, advisors, today)
    await insert_new_facts(rows)
    first = min(row[4] for row in rows)
    await service.rebuild_all_rollups(first, today)
    for grain in service.GRAINS:
        start = service.period_start(grain, first if grain != "week" else today - RECENT_WEEKS)
        while start <= today:
            await service.refresh_benchmarks(grain, start)
            start = service.period_end(grain, start)
    this_week = service.period_start("week", today)
    for back in (1, 2):
        await service.detect_anomalies(this_week - timedelta(weeks=back))
