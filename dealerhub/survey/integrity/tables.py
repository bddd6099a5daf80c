"""Headquarters' review queue of flagged responses, and every decision taken on it.

OEM-wide tables (headquarters reads them across dealers, like the response facts), so
they hold no customer data: no customer id, and the free text is stored with the
customer's identifiers masked.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Text, Timestamptz, Varchar

from dealerhub.platform.db import PlatformTable

REVIEW_STATES = ("pending", "upheld", "cleared")
DECISIONS = {"clear": "cleared", "uphold": "upheld"}


class FlagReview(PlatformTable, tablename="survey_flag_review"):
    """One flagged response awaiting (or past) headquarters' review."""

    tenant_id = UUID()
    region_id = UUID(null=True, default=None)
    invitation_id = UUID()
    answered_at = Timestamptz()
    flags = Varchar(length=200, default="")  # "shared_phone,solicited": filterable by LIKE
    answers = JSONB(default=[])  # [{"key", "kind", "value", "score"}] of scored questions
    verbatims = JSONB(default=[])  # free text, customer identifiers masked
    advisor_staff_id = UUID(null=True, default=None)
    state = Varchar(length=16, default="pending")
    reviewed_flags = Varchar(length=200, default="")  # the flags the last decision judged
    note = Text(default="")
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class FlagDecision(PlatformTable, tablename="survey_flag_decision"):
    """A review decision; re-deciding adds a row, so the history stays whole."""

    review_id = UUID()
    tenant_id = UUID()
    decision = Varchar(length=16)
    previous_state = Varchar(length=16)
    note = Text(default="")
    decided_by = UUID()
    actor = Varchar(length=254)
    decided_at = Timestamptz()
