"""The anonymous response fact of an answered invitation (no customer data)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import require_tenant
from dealerhub.survey.results.tables import ResponseFact

FACT_COLUMNS = ("id", "created_at", "tenant_id", "region_id", "invitation_id", "answered_on",
                "scores", "steps", "csat", "nps", "flagged")
# what a second submission of the same invitation replaces
FACT_UPDATES = ("answered_on", "scores", "steps", "csat", "nps", "flagged")


async def fact_values(invitation_id: uuid.UUID, answers: list[dict], flagged: bool,
                      at: datetime) -> dict[str, Any]:
    """The invitation's fact from its current answers (inside the tenant scope), as column
    name → value; `answers` carry the question's `role` (csat / nps)."""
    tid = require_tenant()
    scores = {a["question_key"]: a["score"] for a in answers if a["score"] is not None}
    by_step: dict[str, list[int]] = {}
    for a in answers:
        if a["score"] is not None:
            by_step.setdefault(a["step"], []).append(a["score"])
    csat = next((a["value_int"] for a in answers if a.get("role") == "csat"), None)
    nps = next((a["value_int"] for a in answers if a.get("role") == "nps"), None)
    values = (uuid.uuid4(), at, tid, await dealer_region(tid), invitation_id, at.date(), scores,
              {step: round(sum(v) / len(v), 1) for step, v in by_step.items()},
              float(csat) if csat is not None else None, nps, flagged)
    return dict(zip(FACT_COLUMNS, values, strict=True))


async def write_fact(values: dict[str, Any]) -> None:
    """Insert the fact or replace the invitation's earlier one (partial answers)."""
    await ResponseFact.insert(ResponseFact(**values)).on_conflict(
        target=(ResponseFact.tenant_id, ResponseFact.invitation_id), action="DO UPDATE",
        values=[getattr(ResponseFact, name) for name in FACT_UPDATES])


_regions: dict[uuid.UUID, uuid.UUID | None] = {}


async def dealer_region(tenant_id: uuid.UUID) -> uuid.UUID | None:
    """A dealer's region (it does not move between regions while a process runs)."""
    if tenant_id not in _regions:
        dealer = await Dealer.select(Dealer.region).where(Dealer.id == tenant_id).first()
        _regions[tenant_id] = dealer["region"] if dealer else None
    return _regions[tenant_id]
