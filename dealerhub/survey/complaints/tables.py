"""Complaints with their SLA timestamps, their history and the dealer's alerts."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable

STATUSES = ("open", "interim_answered", "resolved", "confirmed", "reopened")
SEVERITIES = ("normal", "major_quality")
SOURCES = ("survey", "call", "walk_in", "sms")


class Complaint(TenantTable, tablename="survey_complaint"):
    customer_id = UUID()
    invitation_id = UUID(null=True, default=None)
    source = Varchar(length=16, default="survey")
    severity = Varchar(length=16, default="normal")
    verbatim = Text()
    status = Varchar(length=20, default="open")
    responsible_staff_id = UUID(null=True, default=None)
    concerned_staff_id = UUID(null=True, default=None)  # the advisor the complaint is about
    recorded_by = UUID(null=True, default=None)  # the CS user who recorded it (call)
    opened_at = Timestamptz(default=TimestamptzNow())
    interim_due_at = Timestamptz(default=TimestamptzNow())
    interim_answered_at = Timestamptz(null=True, default=None)
    interim_breached_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    resolution = Text(default="")
    callback_due_at = Timestamptz(null=True, default=None)
    callback_at = Timestamptz(null=True, default=None)
    callback_breached_at = Timestamptz(null=True, default=None)
    confirm_invitation_id = UUID(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    recovered = Boolean(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    gm_reviewed_at = Timestamptz(null=True, default=None)
    gm_reviewed_by = UUID(null=True, default=None)


class ComplaintLog(TenantTable, tablename="survey_complaint_log"):
    """Every change to a complaint: who, when, what (append-only)."""

    complaint_id = UUID()
    at = Timestamptz(default=TimestamptzNow())
    action = Varchar(length=32)
    actor_user_id = UUID(null=True, default=None)
    note = Text(default="")


class Alert(TenantTable, tablename="survey_alert"):
    """A portal notification for the dealer's managers (negative feedback, escalations)."""

    kind = Varchar(length=32)
    customer_id = UUID(null=True, default=None)
    complaint_id = UUID(null=True, default=None)
    invitation_id = UUID(null=True, default=None)
    text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class Escalation(PlatformTable, tablename="survey_escalation"):
    """A major-quality complaint as headquarters sees it: the dealer and the timestamps,
    no customer data (the OEM regional manager's queue)."""

    tenant_id = UUID()
    region_id = UUID(null=True, default=None)
    complaint_id = UUID()
    escalated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
