"""Answers: one row per (invitation, question key); a second submission adds nothing."""

from __future__ import annotations

from piccolo.columns import UUID, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class Answer(TenantTable, tablename="survey_answer"):
    invitation_id = UUID()
    customer_id = UUID()
    question_id = UUID()
    question_key = Varchar(length=64)
    question_version = Integer(default=1)
    step = Varchar(length=16)
    kind = Varchar(length=16)
    value_int = SmallInt(null=True, default=None)
    value_text = Text(null=True, default=None)
    score = SmallInt(null=True, default=None)  # 0–100, comparable across kinds
    negative = Varchar(length=1, default="")  # "y" when this answer is negative feedback
    channel = Varchar(length=8, default="web")  # web | sms
    answered_at = Timestamptz(default=TimestamptzNow())
