"""Trigger rules (national) and the invitations they create (per dealer)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class TriggerRule(PlatformTable, tablename="survey_trigger_rule"):
    """A business event → a weighted pool of question keys, a delay and a response quota."""

    name = Varchar(length=100)
    event_type = Varchar(length=64)
    pool = JSONB(default=[])  # [{"key": "q.reception", "weight": 3}, …]
    delay_minutes = Integer(default=60)
    response_quota = Integer(null=True, default=None)  # answered invitations per dealer
    active = Boolean(default=True)


class Invitation(TenantTable, tablename="survey_invitation"):
    """One survey for one customer: its questions are chosen when it is created."""

    customer_id = UUID()
    kind = Varchar(length=16, default="quick")  # quick | touchpoint | confirm
    rule_id = UUID(null=True, default=None)
    trigger_event = Varchar(length=64, default="")
    source_event_id = UUID(null=True, default=None)
    questions = JSONB(default=[])  # [{"id": …, "key": …, "version": n, "local": bool}]
    advisor_staff_id = UUID(null=True, default=None)
    repair_order_id = UUID(null=True, default=None)
    complaint_id = UUID(null=True, default=None)
    status = Varchar(length=16, default="scheduled")
    reason = Varchar(length=200, default="")
    due_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    message_id = UUID(null=True, default=None)
    flags = JSONB(default=[])  # integrity flags: ["shared_phone", "dealer_network", …]
    client_ip = Varchar(length=64, default="")
