"""The month-end export: customers due next month who have not come in this month,
grouped by reason, streamed in chunks (keyset pages) as CSV or XLSX, and stored to S3 when
a bucket is configured (a local folder otherwise). Memory use does not grow with size.
A download names the customers it carried (`shown`, one call a row) for the access history."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.campaigns.labels import REASON_LABELS
from dealerhub.platform.campaigns.segments.service import dealer_today
from dealerhub.platform.config import Settings, get_settings
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.fields import FieldError, InvalidInput
from dealerhub.tenants.months import add_months

FORMATS = ("csv", "xlsx")
CHUNK = 2000
COLUMNS = ("reason", "due_on", "customer", "phone", "plate", "vin", "model")
# (reason, the vehicle date that falls due, days before it that the reminder goes out)
DUE_DATES = (("first_maintenance", "v.purchase_date", -90),
             ("next_maintenance", "v.next_maintenance_date", 0),
             ("warranty_1m", "v.warranty_end", 0),
             ("insurance_renewal", "v.insurance_expiry", 0))
Shown = Callable[[uuid.UUID], None]  # told each customer a row of the export carries


def _nobody(customer_id: uuid.UUID) -> None:
    """A stored export names nobody: its request is audited as the change it is."""


@dataclass(frozen=True)
class Month:
    first: date
    after: date  # the first day of the month after
    since: datetime  # start of the current local month: a visit since then counts as "came in"


def _month_sql(month: Month, tenant_id: uuid.UUID) -> tuple[str, list[Any]]:
    parts, args = [], []
    for reason, column, shift in DUE_DATES:
        # a shifted rule (first maintenance: 90 days after sale) moves the window instead
        low, high = month.first + timedelta(days=shift), month.after + timedelta(days=shift)
        parts.append(
            f"select '{reason}' as reason, {column} as due_on, v.id as vehicle_id, "
            "c.id as customer_id, c.name as customer, c.phone_e164 as phone, v.plate, v.vin, "
            "v.model_code as model "
            "from vehicle v join customer c on c.tenant_id = v.tenant_id and c.id = v.customer_id "
            f"where v.tenant_id = {{}} and c.erased_at is null and {column} >= {{}} and "
            f"{column} < {{}} and not exists (select 1 from repair_order r where "
            "r.tenant_id = v.tenant_id and r.vehicle_id = v.id and r.opened_at >= {})")
        args += [tenant_id, low, high, month.since]
    return " union all ".join(parts), args


async def month_end_rows(tenant_id: uuid.UUID, now: datetime | None = None,
                         shown: Shown = _nobody) -> AsyncIterator[dict[str, Any]]:
    """Every row, reason by reason, fetched in keyset pages each in its own short read."""
    after: tuple[str, uuid.UUID] | None = None
    while True:
        async with tenant_scope(tenant_id, write=False) as tid:
            local = await dealer_today(tid, now)
            today, zone = local.day, local.zone
            first = add_months(today.replace(day=1), 1)
            month = Month(first, add_months(first, 1), datetime.combine(
                today.replace(day=1), datetime.min.time(), tzinfo=zone).astimezone(UTC))
            union, args = _month_sql(month, tid)
            keyset, keyset_args = "1 = 1", []
            if after is not None:
                keyset = "reason > {} or (reason = {} and vehicle_id > {})"
                keyset_args = [after[0], after[0], after[1]]
            rows = await db.fetch(f"select * from ({union}) as due where {keyset} "
                                  f"order by reason, vehicle_id limit {CHUNK}",
                                  *args, *keyset_args)
        for row in rows:
            shown(row["customer_id"])
            yield row
        if len(rows) < CHUNK:
            return
        after = (rows[-1]["reason"], rows[-1]["vehicle_id"])


def _cells(row: dict[str, Any]) -> list[str]:
    return [REASON_LABELS[row["reason"]], str(row["due_on"] or ""), row["customer"] or "",
            row["phone"] or "", row["plate"] or "", row["vin"] or "", row["model"] or ""]


async def csv_stream(tenant_id: uuid.UUID, now: datetime | None = None,
                     shown: Shown = _nobody) -> AsyncIterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel shows Chinese names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for row in month_end_rows(tenant_id, now, shown):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(_cells(row))
        yield buffer.getvalue().encode()


async def xlsx_file(tenant_id: uuid.UUID, target: Path, now: datetime | None = None,
                    shown: Shown = _nobody) -> None:
    """openpyxl's write-only mode keeps rows on disk, not in memory."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("due next month")
    sheet.append(list(COLUMNS))
    async for row in month_end_rows(tenant_id, now, shown):
        sheet.append(_cells(row))
    workbook.save(target)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput([FieldError("format", f"must be one of {', '.join(FORMATS)}")])
    return fmt


async def write_export(tenant_id: uuid.UUID, fmt: str, target: Path,
                       now: datetime | None = None, shown: Shown = _nobody) -> None:
    check_format(fmt)
    if fmt == "xlsx":
        await xlsx_file(tenant_id, target, now, shown)
        return
    with target.open("wb") as handle:
        async for chunk in csv_stream(tenant_id, now, shown):
            handle.write(chunk)


async def file_stream(folder: tempfile.TemporaryDirectory[str], path: Path
                      ) -> AsyncIterator[bytes]:
    """A finished file in 64 KiB chunks; its temporary folder goes when the stream ends."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(64 * 1024):
                yield chunk
    finally:
        folder.cleanup()


def export_name(tenant_id: uuid.UUID, fmt: str, now: datetime | None = None) -> str:
    month = add_months((now or datetime.now(UTC)).date().replace(day=1), 1)
    return f"due-{month:%Y-%m}-{tenant_id}.{fmt}"


async def store_export(tenant_id: uuid.UUID, fmt: str, settings: Settings | None = None,
                       now: datetime | None = None) -> str:
    """Write the export to S3 (`EXPORT_S3_BUCKET`) or under var/exports; returns where."""
    settings = settings or get_settings()
    check_format(fmt)
    name = export_name(tenant_id, fmt, now)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        await write_export(tenant_id, fmt, path, now)
        if settings.export_s3_bucket:
            key = f"exports/{tenant_id}/{name}"
            await asyncio.to_thread(_upload, settings, path, key)
            return f"s3://{settings.export_s3_bucket}/{key}"
        target = settings.var_dir / "exports" / str(tenant_id)
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target / name)
        return str(target / name)


def _upload(settings: Settings, path: Path, key: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=settings.export_s3_endpoint_url)
    client.upload_file(str(path), settings.export_s3_bucket, key)
