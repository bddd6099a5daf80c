"""DMS imports: GBK CSV, XLSX, JSON; per-row reports; idempotent upserts; bad files."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.imports.service import create_import, import_errors, import_rows, run_import
from dealerhub.tenants.vehicles.service import list_vehicles_for_customer
from tests.tenants.factories import make_vin

pytestmark = pytest.mark.anyio

CUSTOMERS_GBK = (
    "客户编号,姓名,手机,性别,城市,客户类别,生日\n"
    "C1,王伟,13800000001,男,上海,成交,1985-03-02\n"
    "C2,李娜,12345,女,上海,潜在,\n"             # unparseable phone
    "C3,赵敏,13800000003,女,杭州,投诉,2999-01-01\n"  # future birth date
    "C1,王伟重复,13800000009,男,上海,成交,\n"       # duplicate external id in the file
    "C4,刘强,+86 139 0000 0004,男,北京,潜在,1990/07/08\n"
).encode("gbk")


async def _run_file(tenant_id, kind: str, name: str, content: bytes):
    job = await create_import(tenant_id, kind, name, [content], None)
    return await run_import(tenant_id, job.id)


def _report(errors) -> set[tuple[int, str]]:
    return {(e.row_number, e.field) for e in errors}


async def test_gbk_csv_imports_good_rows_and_reports_bad_ones(dealer_a) -> None:
    job = await _run_file(dealer_a.id, "customers", "dms.csv", CUSTOMERS_GBK)
    assert (job.status, job.processed_rows, job.applied_rows, job.error_rows) == ("done", 5, 2, 3)
    errors = await import_errors(dealer_a.id, job.id)
    assert _report(errors) == {(3, "phone"), (4, "birth_date"), (5, "external_id")}
    async with tenant_scope(dealer_a.id, write=False):
        rows = {r["external_id"]: r for r in await Customer.select_in_tenant().where(
            Customer.external_id.is_not_null())}
    assert set(rows) == {"C1", "C4"}
    assert rows["C1"]["name"] == "王伟" and rows["C1"]["gender"] == "male"
    assert rows["C1"]["category"] == "won" and rows["C4"]["phone_e164"] == "+8613900000004"


async def test_reimport_is_idempotent_and_updates_in_place(dealer_a) -> None:
    await _run_file(dealer_a.id, "customers", "a.csv", CUSTOMERS_GBK)
    again = "客户编号,姓名,城市\nC1,王伟,苏州\n".encode("gbk")
    job = await _run_file(dealer_a.id, "customers", "b.csv", again)
    assert job.applied_rows == 1
    async with tenant_scope(dealer_a.id, write=False):
        rows = await Customer.select_in_tenant().where(Customer.external_id == "C1")
    assert len(rows) == 1
    assert rows[0]["city"] == "苏州" and rows[0]["phone_e164"] == "+8613800000001"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_xlsx_vehicles_with_good_and_bad_rows(dealer_a) -> None:
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    good = make_vin()
    bad_check = make_vin()
    bad_check = bad_check[:8] + ("0" if bad_check[8] != "0" else "1") + bad_check[9:]
    content = _xlsx([
        ["车辆编号", "客户编号", "车架号", "车牌号", "车型", "购车日期", "里程", "里程日期"],
        ["V1", "C1", good, "沪A12345", "EXEED-TX", "2023-05-01", 12000, "2024-05-01"],
        ["V2", "C1", bad_check, "沪A22345", "EXEED-TX", "2023-05-01", None, None],
        ["V3", "C404", make_vin(), "沪A32345", "EXEED-TX", "2023-05-01", None, None],
        ["V4", "C1", make_vin(), "沪A42345", "EXEED-TX", "2099-01-01", None, None],
        ["V5", "C1", good, "沪A52345", "EXEED-TX", "2023-05-01", None, None],
    ])
    job = await _run_file(dealer_a.id, "vehicles", "vehicles.xlsx", content)
    assert (job.status, job.applied_rows, job.error_rows) == ("done", 1, 4)
    assert _report(await import_errors(dealer_a.id, job.id)) == {
        (3, "vin"), (4, "customer_external_id"), (5, "purchase_date"), (6, "vin")}
    async with tenant_scope(dealer_a.id, write=False):
        owner = await Customer.select_in_tenant(Customer.id).where(
            Customer.external_id == "C1").first()
    (vehicle,) = await list_vehicles_for_customer(dealer_a.id, owner["id"])
    assert vehicle.plate == "沪A12345" and vehicle.last_odometer_km == 12000
    assert vehicle.daily_km is not None and vehicle.next_maintenance_date is not None
    # a decreasing odometer on re-import is refused and changes nothing
    lower = _xlsx([["车辆编号", "客户编号", "车架号", "里程", "里程日期"],
                   ["V1", "C1", good, 9000, "2024-06-01"]])
    job = await _run_file(dealer_a.id, "vehicles", "again.xlsx", lower)
    assert _report(await import_errors(dealer_a.id, job.id)) == {(2, "odometer_km")}
    (same,) = await list_vehicles_for_customer(dealer_a.id, owner["id"])
    assert same.last_odometer_km == 12000


async def test_a_file_that_is_not_a_spreadsheet_is_a_file_error(dealer_a) -> None:
    job = await _run_file(dealer_a.id, "customers", "fake.xlsx", b"name,phone\nx,y\n")
    assert job.status == "failed" and "not an Excel spreadsheet" in job.file_error
    assert job.applied_rows == 0


async def test_missing_required_column_is_a_file_error(dealer_a) -> None:
    job = await _run_file(dealer_a.id, "customers", "x.csv", b"name,phone\nx,13800000000\n")
    assert job.status == "failed" and "external_id" in job.file_error


async def test_binary_garbage_csv_is_a_file_error(dealer_a) -> None:
    job = await _run_file(dealer_a.id, "customers", "x.csv", bytes(range(128, 256)) * 50)
    assert job.status == "failed" and job.file_error


async def test_json_bulk_rows_report_negative_and_bad_values(dealer_a) -> None:
    job = await import_rows(dealer_a.id, "customers", [
        {"external_id": "J1", "name": "周杰", "email": "not-an-email"},
        {"external_id": "J2", "name": "吴芳", "phone": "13800000123"},
        {"external_id": "", "name": "无编号"},
    ], None)
    assert (job.applied_rows, job.error_rows) == (1, 2)
    assert _report(await import_errors(dealer_a.id, job.id)) == {(1, "email"), (3, "external_id")}


async def test_columns_missing_from_a_later_file_keep_their_values(dealer_a) -> None:
    await import_rows(dealer_a.id, "customers", [{"external_id": "K1", "name": "吴敏"}], None)
    vin = make_vin()
    first = await import_rows(dealer_a.id, "vehicles", [{
        "external_id": "KV1", "customer_external_id": "K1", "vin": vin, "plate": "沪E11111",
        "purchase_date": "2024-02-01", "insurance_expiry": "2026-02-01"}], None)
    assert first.applied_rows == 1
    second = await import_rows(dealer_a.id, "vehicles", [{
        "external_id": "KV1", "customer_external_id": "K1", "vin": vin, "plate": "沪E22222"}],
        None)
    assert second.applied_rows == 1
    async with tenant_scope(dealer_a.id, write=False):
        owner = await Customer.select_in_tenant(Customer.id).where(
            Customer.external_id == "K1").first()
    (vehicle,) = await list_vehicles_for_customer(dealer_a.id, owner["id"])
    assert vehicle.plate == "沪E22222"
    assert str(vehicle.purchase_date) == "2024-02-01" and str(vehicle.insurance_expiry) == \
        "2026-02-01"
