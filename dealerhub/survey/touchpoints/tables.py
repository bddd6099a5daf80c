"""Lifecycle touchpoints after a visit, as due rows."""

from __future__ import annotations

from piccolo.columns import UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class Touchpoint(TenantTable, tablename="survey_touchpoint"):
    customer_id = UUID()
    repair_order_id = UUID(null=True, default=None)
    kind = Varchar(length=24)
    mode = Varchar(length=8)  # call | message | survey
    due_at = Timestamptz()
    status = Varchar(length=12, default="scheduled")  # scheduled|open|sent|done|cancelled
    outcome = Varchar(length=24, default="")
    note = Text(default="")
    completed_at = Timestamptz(null=True, default=None)
    completed_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
