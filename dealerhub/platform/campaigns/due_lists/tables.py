"""Due-list entries (one per customer/vehicle and occasion), the dealer's due-list settings,
and the per-dealer record of each day's run (counts only, so the scheduler may read it)."""

from __future__ import annotations

from piccolo.columns import UUID, Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class DueListEntry(TenantTable, tablename="due_list_entry"):
    """A customer to contact today for one reason; `occasion` keeps it to one entry per
    occurrence (this vehicle's warranty end, this year's birthday…)."""

    reason = Varchar(length=32)
    occasion = Varchar(length=120)
    customer_id = UUID()
    vehicle_id = UUID(null=True, default=None)
    repair_order_id = UUID(null=True, default=None)
    target_on = Date(null=True, default=None)
    due_on = Date()
    status = Varchar(length=16, default="open")  # open | contacted | accepted | declined | visited
    contacted_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    outcome_reason = Varchar(length=200, default="")
    handled_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DueListSettings(TenantTable, tablename="due_list_settings"):
    declined_work_days = Integer(default=14)


class DueListRun(PlatformTable, tablename="due_list_run"):
    """That a dealer's lists were generated for its local day, and how many entries."""

    dealer_id = UUID()
    generated_on = Date()
    new_entries = Integer(default=0)
