"""The dealer's people who look after customers, each linked to a portal user."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable

STAFF_KINDS = frozenset({"service_advisor", "cs_agent", "sales_consultant", "insurance_advisor",
                         "service_manager", "general_manager"})


class Staff(TenantTable, tablename="staff"):
    user_id = UUID(null=True, default=None)
    name = Varchar(length=100)
    kind = Varchar(length=32)
    phone_e164 = Varchar(length=20, null=True, default=None)
    active = Boolean(default=True)
    external_id = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
