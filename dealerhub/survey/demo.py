"""Demo data for the survey pages: the national bank and rules, answered surveys (one
region weaker at reception; a few flagged as staged, for headquarters to review), some
complaints and due care calls for every demo dealer;
registered in `dealerhub.demo.SEED_HOOKS`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers import service as answers
from dealerhub.survey.integrity.service import Submission
from dealerhub.survey.seed import QUICK_POOL, seed_bank
from dealerhub.survey.touchpoints import service as touchpoints
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.sampling import pick_questions
from dealerhub.tenants.customers import service as customers

SURVEYS_PER_DEALER = 16
COMPLAINTS = ("等了两个小时才有人接待", "保养后发动机异响还在", "报价和结算金额不一致，没人解释",
              "洗车没洗干净", "交车时没人讲解做了什么")
SOLICITED = "顾问说给个满分就送一次免费洗车"  # a flagged answer (integrity: solicited)


def _answer(key: str, quality: float, rng: random.Random) -> str:
    """A plausible answer: better service → higher scores; reception is where it varies."""
    level = min(1.0, max(0.0, quality + rng.gauss(0, 0.15)))
    if key == "overall.comment":
        return rng.choice(COMPLAINTS) if level < 0.35 else rng.choice(["很好", "服务周到", ""])
    if key in ("estimate.clear", "repair.fixed"):
        return "1" if level > 0.3 else "0"
    if key == "overall.nps":
        return str(round(level * 10))
    return str(1 + round(level * 4))


async def _dealer_surveys(dealer: Dealer, weak_reception: bool, rng: random.Random,
                          now: datetime) -> None:
    found = await customers.search_customers(dealer.id, per_page=SURVEYS_PER_DEALER)
    pool = [(key, 3 if key == "overall.csat" else 1) for key in QUICK_POOL]
    for index, customer in enumerate(found.customers):
        at = now - timedelta(days=rng.randint(1, 85), hours=rng.randint(0, 10))
        keys = pick_questions(pool, set(), rng)
        async with tenant_scope(dealer.id):
            row = await triggers.create_direct(customer["id"], "quick", keys, at)
            if row.status != "scheduled" or await triggers.send_invitation(row, at) != "sent":
                continue
        reception = rng.uniform(0.1, 0.6) if weak_reception else rng.uniform(0.5, 1.0)
        values: dict[str, Any] = {}
        for key in keys:
            quality = reception if key in ("reception.prompt", "overall.csat") else \
                rng.uniform(0.6, 1.0)
            values[key] = _answer(key, quality, rng)
        if index % 7 == 6:  # some answer only the first question (partial)
            values = dict(list(values.items())[:1])
        if index % 8 == 3 and "overall.comment" in values:  # for headquarters' review queue
            values["overall.comment"] = SOLICITED
        staged = Submission("web", staff_session=index == 4)
        await answers.submit(triggers.survey_token(dealer.id, row.id), values, staged,
                             now=at + timedelta(hours=2))
        if index < 6 and customer.get("last_visit_at"):
            async with tenant_scope(dealer.id):
                await touchpoints.schedule_after_visit(customer["id"], None,
                                                       now - timedelta(days=rng.choice([3, 16])))
    await touchpoints.claim_due_for_dealer(dealer.id, now)


async def seed_demo(rng: random.Random, dealers: Sequence[Dealer],
                    customers_per_dealer: int) -> None:
    await seed_bank()
    now = datetime.now(UTC)
    regions = sorted({dealer.region for dealer in dealers}, key=str)
    weak_region = regions[-1] if regions else None
    for dealer in dealers:
        await _dealer_surveys(dealer, dealer.region == weak_region, rng, now)
