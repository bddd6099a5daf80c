"""DMS imports: an uploaded CSV/XLSX runs as a background job, batch by batch, each batch
its own transaction, with progress and every refused row (row, field, reason) recorded;
the JSON API runs the same code inline. Re-running an import changes nothing twice: rows
are upserted by the dealer's external ids."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.imports.kinds import (
    KINDS,
    BatchOutcome,
    Checked,
    ImportKind,
    Row,
    SeenKeys,
    canonical,
)
from dealerhub.tenants.imports.readers import FileProblem, open_rows
from dealerhub.tenants.imports.tables import ImportJob, ImportRowError

BATCH_ROWS = 10000
MAX_STORED_ERRORS = 10_000
SOURCES = ("csv", "xlsx", "json")


class UnknownImportKind(ValueError):
    pass


def import_path(tenant_id: uuid.UUID, import_id: uuid.UUID, source: str) -> Path:
    folder = get_settings().var_dir / "imports" / str(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{import_id}.{source}"


def source_for(filename: str) -> str:
    return "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"


def _kind(name: str) -> ImportKind:
    if name not in KINDS:
        raise UnknownImportKind(f"unknown import kind {name!r}: use {', '.join(KINDS)}")
    return KINDS[name]


async def create_import(tenant_id: uuid.UUID, kind: str, filename: str,
                        chunks: Iterable[bytes] | Any, created_by: uuid.UUID | None) -> ImportJob:
    """Store an upload on disk chunk by chunk (never whole in memory) and queue its job.
    `chunks` is an iterable or async iterable of bytes."""
    _kind(kind)
    job = ImportJob(kind=kind, source=source_for(filename), filename=filename[-200:],
                    created_by=created_by)
    path = import_path(tenant_id, job.id, job.source)
    size = 0
    with path.open("wb") as handle:
        if hasattr(chunks, "__aiter__"):
            async for chunk in chunks:
                size += len(chunk)
                handle.write(chunk)
        else:
            for chunk in chunks:
                size += len(chunk)
                handle.write(chunk)
    job.total_bytes = size
    async with tenant_scope(tenant_id):
        await ImportJob.insert_in_tenant(job)
    return job


async def _finish(tenant_id: uuid.UUID, import_id: uuid.UUID, status: str,
                  file_error: str | None = None) -> None:
    async with tenant_scope(tenant_id):
        await ImportJob.update_in_tenant({
            ImportJob.status: status, ImportJob.file_error: file_error,
            ImportJob.finished_at: datetime.now(UTC),
        }).where(ImportJob.id == import_id)


async def _apply_batch(tenant_id: uuid.UUID, job: ImportJob, kind: ImportKind, checked: Checked,
                       position: int) -> None:
    """One batch, one transaction: its good rows, its errors and the progress together.
    The counters are added to what is stored, since batches may commit out of order."""
    async with tenant_scope(tenant_id):
        outcome: BatchOutcome = await kind.apply(checked)
        # the room for stored errors is taken before the next await, so two batches written
        # at once never both take the same room
        room = MAX_STORED_ERRORS - job.error_rows
        refused = len({number for number, _ in outcome.errors})
        job.error_rows += refused
        await ImportRowError.insert_in_tenant(*[
            ImportRowError(import_id=job.id, row_number=number, field=error.field[:64],
                           reason=error.reason[:300])
            for number, error in outcome.errors][:max(room, 0)])
        await db.fetch(
            "update import_job set processed_rows = processed_rows + {}, "
            "applied_rows = applied_rows + {}, error_rows = error_rows + {}, "
            "processed_bytes = case when processed_bytes < {} then {} else processed_bytes end "
            "where tenant_id = {} and id = {}",
            checked.rows, outcome.applied, refused, position, position, tenant_id, job.id)


def _checked_batches(kind: ImportKind, rows: Iterator[tuple[int, dict]],
                     position: Callable[[], int], reference: Any) -> Iterator[tuple[Checked, int]]:
    """Read and check the rows a batch at a time (no database): each batch with the file
    position after it. Duplicate external ids are found across the whole file."""
    seen = SeenKeys()
    mapping: dict[Any, str] | None = None
    batch: list[Row] = []
    for number, raw in rows:
        if mapping is None:
            mapping = kind.header_map(list(raw))
            missing = [c for c in kind.required if c not in mapping.values()]
            if missing:
                raise FileProblem(f"missing column(s): {', '.join(missing)}")
        batch.append((number, canonical(raw, mapping)))
        if len(batch) >= BATCH_ROWS:
            yield kind.check(batch, seen, reference), position()
            batch = []
    if batch:
        yield kind.check(batch, seen, reference), position()


async def _refresh_statistics(kind: ImportKind, written: int) -> None:
    """After the 2nd, 4th, 8th… batch, fresh statistics for the tables the import grows:
    autovacuum re-analyses them far too late, and with statistics that know none of the
    dealer's new rows every lookup of a batch is planned as a scan of all of them (each
    batch cost more than the one before). An import of one or two batches never pays for
    it: its lookups scan little, less than an ANALYZE costs."""
    if kind.grows and db.is_postgres() and written >= 2 and written & (written - 1) == 0:
        await db.fetch("select analyze_tables({})", list(kind.grows))


async def _run_rows(tenant_id: uuid.UUID, job: ImportJob, rows: Iterator[tuple[int, dict]],
                    position: Callable[[], int]) -> None:
    """Batches are read and checked in a thread while the batches before them are written:
    Python and PostgreSQL work at the same time. A kind whose rows never depend on another
    batch's rows writes `batches_at_once` batches side by side, each in its own transaction
    (on PostgreSQL); otherwise batches are applied one after the other, in file order.
    When reading fails, the batches read before are still applied. When writing a batch
    fails, the one written beside it may still commit: what stays applied is whole batches,
    and running the file again completes it (rows are upserted by external id)."""
    kind = _kind(job.kind)
    at_once = kind.batches_at_once if db.is_postgres() else 1
    batches = _checked_batches(kind, rows, position, await kind.reference(tenant_id))
    writing: deque[asyncio.Task[None]] = deque()
    written = 0
    try:
        while (ready := await asyncio.to_thread(next, batches, None)) is not None:
            if len(writing) == at_once:
                await writing.popleft()
                written += 1
                await _refresh_statistics(kind, written)
            writing.append(asyncio.create_task(_apply_batch(tenant_id, job, kind, *ready)))
    finally:
        ended = await asyncio.gather(*writing, return_exceptions=True)
        if failed := next((e for e in ended if isinstance(e, BaseException)), None):
            raise failed


async def run_import(tenant_id: uuid.UUID, import_id: uuid.UUID) -> ImportJob | None:
    """Process a queued upload; a file that cannot be read at all fails with a file error
    (batches already applied stay applied, each was complete)."""
    async with tenant_scope(tenant_id):
        job = await ImportJob.get_in_tenant(import_id)
        if job is None or job.status not in ("queued", "running"):
            return job
        await ImportJob.update_in_tenant({ImportJob.status: "running"}).where(
            ImportJob.id == import_id)
    path = import_path(tenant_id, job.id, job.source)
    try:
        reader = open_rows(path, job.source)
        await _run_rows(tenant_id, job, iter(reader), lambda: reader.position)
    except FileProblem as problem:
        await _finish(tenant_id, import_id, "failed", str(problem))
    else:
        await _finish(tenant_id, import_id, "done")
    finally:
        path.unlink(missing_ok=True)
    return await get_import(tenant_id, import_id)


async def import_rows(tenant_id: uuid.UUID, kind: str, rows: Sequence[dict[str, Any]],
                      created_by: uuid.UUID | None) -> ImportJob:
    """The bulk JSON API: the same rules, run inline; rows are numbered from 1."""
    _kind(kind)
    job = ImportJob(kind=kind, source="json", filename="", status="running",
                    created_by=created_by)
    async with tenant_scope(tenant_id):
        await ImportJob.insert_in_tenant(job)
    numbered = ((number, dict(row)) for number, row in enumerate(rows, start=1))
    try:
        await _run_rows(tenant_id, job, numbered, lambda: 0)
    except FileProblem as problem:
        await _finish(tenant_id, job.id, "failed", str(problem))
    else:
        await _finish(tenant_id, job.id, "done")
    return await get_import(tenant_id, job.id)  # type: ignore[return-value]


async def get_import(tenant_id: uuid.UUID, import_id: uuid.UUID) -> ImportJob | None:
    async with tenant_scope(tenant_id, write=False):
        return await ImportJob.get_in_tenant(import_id)


async def import_errors(tenant_id: uuid.UUID, import_id: uuid.UUID,
                        limit: int = 1000) -> list[ImportRowError]:
    async with tenant_scope(tenant_id, write=False):
        return await ImportRowError.objects_in_tenant().where(
            ImportRowError.import_id == import_id,
        ).order_by(ImportRowError.row_number).limit(limit)


async def list_imports(tenant_id: uuid.UUID, limit: int = 50) -> list[ImportJob]:
    async with tenant_scope(tenant_id, write=False):
        return await ImportJob.objects_in_tenant().order_by(
            ImportJob.created_at, ascending=False).limit(limit)


def progress_percent(job: ImportJob) -> int:
    if job.status in ("done", "failed"):
        return 100
    if not job.total_bytes:
        return 0
    return min(99, int(100 * job.processed_bytes / job.total_bytes))


