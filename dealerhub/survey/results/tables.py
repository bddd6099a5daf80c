"""Anonymous response facts: what the OEM's national views read across dealers.

One row per answered invitation, with scores by question key and no customer data.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Boolean, Date, Float, SmallInt

from dealerhub.platform.db import PlatformTable


class ResponseFact(PlatformTable, tablename="survey_response_fact"):
    tenant_id = UUID()
    region_id = UUID(null=True, default=None)
    invitation_id = UUID()
    answered_on = Date()
    scores = JSONB(default={})  # {question key: 0–100}
    steps = JSONB(default={})  # {step: 0–100}
    csat = Float(null=True, default=None)
    nps = SmallInt(null=True, default=None)
    flagged = Boolean(default=False)
