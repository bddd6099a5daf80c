"""The month-end export in the portal: download (streamed) or store to S3 / local folder."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from litestar import Controller, Request, get, post
from litestar.response import Stream, Template

from dealerhub.platform.audit import AUDIT_READS, note_customers_shown
from dealerhub.platform.auth import dealer_staff
from dealerhub.platform.campaigns.exports import service
from dealerhub.platform.campaigns.web import render
from dealerhub.tenants.fields import InvalidInput

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ExportPagesController(Controller):
    path = "/due-lists/export"
    guards = [dealer_staff]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return render(request, "campaigns/export.html", stored="", error="")

    @get("/download", opt=AUDIT_READS)
    async def download(self, request: Request, format: str = "csv") -> Stream | Template:
        """A list read of every customer the file carries (recorded once it is sent)."""
        tenant_id = request.user.tenant_id
        try:
            service.check_format(format)
        except InvalidInput as invalid:
            return render(request, "campaigns/export.html", status_code=400, stored="",
                          error=invalid.errors[0].field)
        note_customers_shown(request, ())

        def shown(customer_id: uuid.UUID) -> None:
            note_customers_shown(request, (customer_id,))

        name = service.export_name(tenant_id, format)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if format == "csv":
            return Stream(service.csv_stream(tenant_id, shown=shown), media_type=MEDIA_TYPES["csv"],
                          headers=headers)
        folder = tempfile.TemporaryDirectory()
        path = Path(folder.name) / name
        await service.write_export(tenant_id, format, path, shown=shown)
        return Stream(service.file_stream(folder, path), media_type=MEDIA_TYPES[format],
                      headers=headers)

    @post("/store")
    async def store(self, request: Request) -> Template:
        form = await request.form()
        try:
            where = await service.store_export(request.user.tenant_id,
                                               str(form.get("format") or "csv"))
        except InvalidInput as invalid:
            return render(request, "campaigns/export.html", status_code=400, stored="",
                          error=invalid.errors[0].field)
        return render(request, "campaigns/export.html", stored=where, error="")
