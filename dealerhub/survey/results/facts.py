"""Writing the anonymous response fact of an answered invitation (no customer data)."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import require_tenant
from dealerhub.survey.results.tables import ResponseFact


async def write_fact(invitation_id: uuid.UUID, answers: list[dict], flagged: bool,
                     at: datetime) -> None:
    """Replace the invitation's fact with its current answers (inside the tenant scope)."""
    tid = require_tenant()
    scores = {a["question_key"]: a["score"] for a in answers if a["score"] is not None}
    by_step: dict[str, list[int]] = {}
    for a in answers:
        if a["score"] is not None:
            by_step.setdefault(a["step"], []).append(a["score"])
    csat = next((a["value_int"] for a in answers if a.get("role") == "csat"), None)
    nps = next((a["value_int"] for a in answers if a.get("role") == "nps"), None)
    fact = ResponseFact(
        tenant_id=tid, region_id=await _region(tid), invitation_id=invitation_id,
        answered_on=at.date(), scores=scores,
        steps={step: round(sum(v) / len(v), 1) for step, v in by_step.items()},
        csat=float(csat) if csat is not None else None, nps=nps, flagged=flagged)
    await ResponseFact.insert(fact).on_conflict(
        target=(ResponseFact.tenant_id, ResponseFact.invitation_id), action="DO UPDATE",
        values=[ResponseFact.answered_on, ResponseFact.scores, ResponseFact.steps,
                ResponseFact.csat, ResponseFact.nps, ResponseFact.flagged])


_regions: dict[uuid.UUID, uuid.UUID | None] = {}


async def _region(tenant_id: uuid.UUID) -> uuid.UUID | None:
    """A dealer's region (it does not move between regions while a process runs)."""
    if tenant_id not in _regions:
        dealer = await Dealer.select(Dealer.region).where(Dealer.id == tenant_id).first()
        _regions[tenant_id] = dealer["region"] if dealer else None
    return _regions[tenant_id]
