"""The month-end export: grouped by reason, streamed, stored to S3 (moto server) or locally."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest
from openpyxl import load_workbook

from dealerhub.platform.campaigns.exports import service
from dealerhub.platform.config import get_settings
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.months import add_months
from tests.conftest import bearer_for, login_page_session
from tests.platform.campaigns.conftest import vehicle_with
from tests.security.test_audit_trail import TRAIL, add_auditor
from tests.support.moto_server import CREDENTIALS, MotoServer
from tests.tenants.factories import utc, visit

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)


@pytest.fixture
def moto(monkeypatch):
    server = MotoServer().start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield server
    server.stop()


async def _due_next_month(tenant_id) -> None:
    await vehicle_with(tenant_id, {"name": "赵敏"}, insurance_expiry=date(2026, 12, 5))
    await vehicle_with(tenant_id, {"name": "钱进"}, next_maintenance_date=date(2026, 12, 20))
    _, came_in = await vehicle_with(tenant_id, {"name": "孙立"},
                                    next_maintenance_date=date(2026, 12, 3))
    await visit(tenant_id, came_in, utc(2026, 11, 10))
    await vehicle_with(tenant_id, {"name": "李四"}, insurance_expiry=date(2027, 1, 2))


async def _csv_rows(tenant_id) -> list[list[str]]:
    body = b"".join([chunk async for chunk in service.csv_stream(tenant_id, NOW)])
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_csv_groups_next_months_dues_without_a_visit(dealer_a):
    await _due_next_month(dealer_a.id)
    header, *rows = await _csv_rows(dealer_a.id)
    assert header[:3] == ["reason", "due_on", "customer"]
    assert [(r[0], r[2]) for r in rows] == [("Insurance renewal", "赵敏"),
                                            ("Next maintenance", "钱进")]


async def test_export_pages_through_chunks(dealer_a, monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 2)
    for _ in range(5):
        await vehicle_with(dealer_a.id, insurance_expiry=date(2026, 12, 9))
    await vehicle_with(dealer_a.id, next_maintenance_date=date(2026, 12, 9))
    _, *rows = await _csv_rows(dealer_a.id)
    assert len(rows) == 6


async def test_store_to_s3_through_moto(dealer_a, moto):
    await _due_next_month(dealer_a.id)
    moto.client("s3").create_bucket(Bucket="exports")
    settings = dataclasses.replace(get_settings(), export_s3_bucket="exports",
                                   export_s3_endpoint_url=moto.url)
    where = await service.store_export(dealer_a.id, "xlsx", settings, NOW)
    key = where.removeprefix("s3://exports/")
    body = moto.client("s3").get_object(Bucket="exports", Key=key)["Body"].read()
    sheet = load_workbook(io.BytesIO(body)).active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["赵敏", "钱进"]


async def test_store_locally_and_bad_format(dealer_a):
    await _due_next_month(dealer_a.id)
    where = await service.store_export(dealer_a.id, "csv", now=NOW)
    assert "钱进" in await anyio.Path(where).read_text(encoding="utf-8-sig")
    with pytest.raises(InvalidInput) as refused:
        await service.store_export(dealer_a.id, "pdf", now=NOW)
    assert refused.value.errors[0].field == "format"


async def test_download_pages(client, dealer_a):
    await login_page_session(client, dealer_a.emails["cs_agent"])
    assert "月末导出" in (await client.get("/due-lists/export")).text
    downloaded = await client.get("/due-lists/export/download", params={"format": "csv"})
    assert downloaded.status_code == 200 and downloaded.content.startswith(b"\xef\xbb\xbfreason")
    xlsx = await client.get("/due-lists/export/download", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = await client.get("/due-lists/export/download", params={"format": "pdf"})
    assert bad.status_code == 400


async def test_a_download_is_a_list_read_of_the_customers_it_carried(client, dealer_a):
    """The file carries names and phones, so the access history of each customer in it
    lists the download; a customer not in it is not linked."""
    next_month = add_months(datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1), 1)
    carried, _ = await vehicle_with(dealer_a.id, {"name": "赵敏"},
                                    insurance_expiry=next_month + timedelta(days=9))
    later, _ = await vehicle_with(dealer_a.id, {"name": "李四"},
                                  insurance_expiry=add_months(next_month, 1) + timedelta(days=9))
    await login_page_session(client, dealer_a.emails["cs_agent"])
    for fmt in ("csv", "xlsx"):
        downloaded = await client.get("/due-lists/export/download", params={"format": fmt})
        assert downloaded.status_code == 200
    auditor = await bearer_for(client, await add_auditor(dealer_a))
    history = (await client.get(TRAIL, headers=auditor, params={
        "customer_id": str(carried.id), "action": "list"})).json()
    assert [(e["target"], e["query"], e["customers_shown"]) for e in history["items"]] == [
        ("/due-lists/export/download", "format=xlsx", 1),
        ("/due-lists/export/download", "format=csv", 1)]
    assert (await client.get(TRAIL, headers=auditor, params={
        "customer_id": str(later.id)})).json()["total"] == 0
