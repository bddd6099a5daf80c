"""DMS imports: upload CSV/XLSX in the portal (a background job with live progress) or send
rows to the bulk JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.response import Redirect, Template

from dealerhub.platform.auth import DEALER_ROLES, requires_roles, requires_scope
from dealerhub.platform.web import found, register_nav
from dealerhub.tenants.imports import service
from dealerhub.tenants.imports.kinds import KINDS
from dealerhub.tenants.imports.schemas import BulkImport, ImportRead, ImportRowErrorRead
from dealerhub.tenants.imports.tables import ImportJob
from dealerhub.tenants.imports.tasks import run
from dealerhub.tenants.web import api_read, render

UPLOAD_LIMIT_BYTES = 512 * 1024 * 1024
BULK_LIMIT_BYTES = 32 * 1024 * 1024
UPLOAD_CHUNK = 1 << 20
importers = [requires_roles("dealer_admin", "integration"), requires_scope("imports")]


def import_read(job: ImportJob, errors: list[Any] | None = None) -> ImportRead:
    return ImportRead(
        id=job.id, kind=job.kind, source=job.source, filename=job.filename, status=job.status,
        progress_percent=service.progress_percent(job), processed_rows=job.processed_rows,
        applied_rows=job.applied_rows, error_rows=job.error_rows, file_error=job.file_error,
        created_at=job.created_at, finished_at=job.finished_at,
        errors=[ImportRowErrorRead(e.row_number, e.field, e.reason) for e in errors or []],
    )


class ImportApiController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]

    @post("/", guards=importers, request_max_body_size=BULK_LIMIT_BYTES)
    async def bulk(self, request: Request, data: BulkImport, kind: str) -> ImportRead:
        """Upsert rows by the dealer's external ids (`kind`: customers or vehicles); the
        report lists every refused row (row number from 1, field, reason)."""
        try:
            job = await service.import_rows(request.user.tenant_id, kind, data.rows,
                                            request.user.id)
        except service.UnknownImportKind as error:
            raise ValidationException(str(error), extra=[{"key": "kind",
                                                          "message": str(error)}]) from None
        return import_read(job, await service.import_errors(request.user.tenant_id, job.id))

    @post("/files", guards=importers, request_max_body_size=UPLOAD_LIMIT_BYTES)
    async def upload_file(self, request: Request, kind: str, filename: str) -> ImportRead:
        """Stream a CSV or XLSX export as the raw request body; it is imported in the
        background (poll `GET /api/v1/imports/{id}` for progress and the report)."""
        if kind not in KINDS:
            raise ValidationException(f"unknown import kind {kind!r}",
                                      extra=[{"key": "kind", "message": "customers or vehicles"}])
        job = await service.create_import(request.user.tenant_id, kind, filename,
                                          request.stream(), request.user.id)
        run.send(str(request.user.tenant_id), str(job.id))
        return import_read(job)

    @get("/", guards=api_read)
    async def list_imports(self, request: Request) -> list[ImportRead]:
        return [import_read(job) for job in await service.list_imports(request.user.tenant_id)]

    @get("/{import_id:uuid}", guards=api_read)
    async def read(self, request: Request, import_id: uuid.UUID) -> ImportRead:
        job = found(await service.get_import(request.user.tenant_id, import_id), "import")
        return import_read(job, await service.import_errors(request.user.tenant_id, import_id))


class ImportPageController(Controller):
    path = "/imports"
    guards = [requires_roles(*DEALER_ROLES)]

    @get("/", include_in_schema=False)
    async def index(self, request: Request) -> Template:
        return render(request, "imports/index.html", jobs=await service.list_imports(
            request.user.tenant_id), kinds=list(KINDS), error=None)

    @post("/", include_in_schema=False, guards=[requires_roles("dealer_admin")],
          request_max_body_size=UPLOAD_LIMIT_BYTES)
    async def upload(
        self, request: Request,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Any:
        upload, kind = data.get("file"), data.get("kind", "")
        if not isinstance(upload, UploadFile) or not upload.filename or kind not in KINDS:
            return render(request, "imports/index.html", status_code=400,
                        jobs=await service.list_imports(request.user.tenant_id),
                        kinds=list(KINDS), error="choose what to import and a CSV or XLSX file")

        async def chunks():
            while chunk := await upload.read(UPLOAD_CHUNK):
                yield chunk

        job = await service.create_import(request.user.tenant_id, kind, upload.filename,
                                          chunks(), request.user.id)
        run.send(str(request.user.tenant_id), str(job.id))
        return Redirect(f"/imports/{job.id}", status_code=303)

    @post("/stream", include_in_schema=False, guards=[requires_roles("dealer_admin")],
          request_max_body_size=UPLOAD_LIMIT_BYTES)
    async def upload_stream(self, request: Request, kind: str, filename: str) -> Redirect:
        """The page's script sends the file as the raw body, so a large export is written to
        disk as it arrives instead of being parsed as a form in memory."""
        if kind not in KINDS:
            raise ValidationException("choose what to import and a CSV or XLSX file")
        job = await service.create_import(request.user.tenant_id, kind, filename,
                                          request.stream(), request.user.id)
        run.send(str(request.user.tenant_id), str(job.id))
        return Redirect(f"/imports/{job.id}", status_code=303)

    @get("/{import_id:uuid}", include_in_schema=False)
    async def detail(self, request: Request, import_id: uuid.UUID) -> Template:
        job = found(await service.get_import(request.user.tenant_id, import_id), "import")
        template = "imports/_progress.html" if request.headers.get("hx-request") \
            else "imports/detail.html"
        return render(request, template, job=job, percent=service.progress_percent(job),
                    errors=await service.import_errors(request.user.tenant_id, import_id, 500))


register_nav("dealer", "/imports", "DMS import", DEALER_ROLES, order=70)
