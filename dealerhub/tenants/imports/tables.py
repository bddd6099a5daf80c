"""DMS import jobs and the rows they refused."""

from __future__ import annotations

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class ImportJob(TenantTable, tablename="import_job"):
    kind = Varchar(length=16)
    source = Varchar(length=8)  # "csv" | "xlsx" | "json"
    filename = Varchar(length=200, default="")
    status = Varchar(length=12, default="queued")  # queued | running | done | failed
    total_bytes = Integer(default=0)
    processed_bytes = Integer(default=0)
    processed_rows = Integer(default=0)
    applied_rows = Integer(default=0)
    error_rows = Integer(default=0)
    file_error = Text(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class ImportRowError(TenantTable, tablename="import_row_error"):
    import_id = UUID()
    row_number = Integer()
    field = Varchar(length=64)
    reason = Varchar(length=300)
