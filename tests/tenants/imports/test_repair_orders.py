"""Repair-order history from the DMS: one row per line with the order's columns repeated,
upserted by order number and line number, per-row errors, facts and recent visits' events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.imports.service import create_import, import_errors, import_rows, run_import
from dealerhub.tenants.repair_orders.service import declined_work
from dealerhub.tenants.repair_orders.tables import RepairOrder, RepairOrderLine
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle
from tests.tenants.factories import make_vin

pytestmark = pytest.mark.anyio

HEADER = ("工单号,车辆编号,工单类型,开单时间,结算时间,进厂里程,服务顾问编号,"
          "行号,工时代码,项目名称,金额,客户拒绝\n")
ORDERS_GBK = (HEADER + (
    "R1,V1,保养,2026-03-01 09:30,2026-03-01 16:00,15000,SA01,1,OIL,更换机油,380.00,否\n"
    "R1,V1,保养,2026-03-01 09:30,2026-03-01 16:00,15000,SA01,2,BRAKE,更换刹车片,1200,是\n"
    "R2,V1,维修,2026-04-02 10:00,,9000,,1,DIAG,诊断,100,否\n"          # mileage goes back
    "R3,V9,保养,2026-03-01,,,,,,,,\n"                                   # no such vehicle
    "R4,V2,洗车,2026-03-01,,,,,,,,\n"                                   # unknown type
    "R5,V2,维修,2026/05/06 08:00,2026/05/05 08:00,,,1,A,维修,-5,否\n"   # closed first; negative
    "R1,V1,保养,2026-03-01 09:30,2026-03-01 16:00,15000,SA01,2,BRAKE,重复,1,否\n"  # same line
    "R6,V2,事故,2026-05-10 11:00,2026-05-11 17:00,,SA99,1,B,钣金,3000,否\n"  # unknown advisor
)).encode("gbk")


async def _customer_base(tenant_id) -> None:
    await import_rows(tenant_id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    await import_rows(tenant_id, "vehicles", [
        {"external_id": "V1", "customer_external_id": "C1", "vin": make_vin(),
         "odometer_km": 10000, "odometer_on": "2026-01-01"},
        {"external_id": "V2", "customer_external_id": "C1", "vin": make_vin()}], None)
    async with tenant_scope(tenant_id):
        await Staff.insert_in_tenant(Staff(name="张顾问", kind="service_advisor",
                                           external_id="SA01"))


async def _run_file(tenant_id, content: bytes):
    job = await create_import(tenant_id, "repair_orders", "ro.csv", [content], None)
    return await run_import(tenant_id, job.id)


async def _stored(tenant_id):
    async with tenant_scope(tenant_id, write=False):
        orders = {row["external_id"]: row for row in await RepairOrder.select_in_tenant()}
        lines = await RepairOrderLine.select_in_tenant().order_by(RepairOrderLine.line_no)
        readings = await OdometerReading.select_in_tenant().where(
            OdometerReading.source == "repair_order")
        v1 = await Vehicle.objects_in_tenant().where(Vehicle.external_id == "V1").first()
    return orders, lines, readings, v1


async def test_gbk_export_applies_good_lines_and_reports_each_bad_row(dealer_a) -> None:
    await _customer_base(dealer_a.id)
    job = await _run_file(dealer_a.id, ORDERS_GBK)
    assert (job.status, job.processed_rows, job.applied_rows, job.error_rows) == ("done", 8, 2, 6)
    assert {(e.row_number, e.field) for e in await import_errors(dealer_a.id, job.id)} == {
        (4, "mileage_km"), (5, "vehicle_external_id"), (6, "ro_type"), (7, "closed_at"),
        (7, "amount"), (8, "line_no"), (9, "advisor_external_id")}
    orders, lines, readings, v1 = await _stored(dealer_a.id)
    assert set(orders) == {"R1"}
    r1 = orders["R1"]
    assert (r1["status"], r1["ro_type"], Decimal(str(r1["total_amount"]))) == (
        "closed", "maintenance", Decimal("380.00"))  # the declined line is not paid
    assert r1["opened_at"] == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # Shanghai local time
    assert r1["advisor_staff_id"] is not None and r1["vehicle_id"] == v1.id
    assert [(line["line_no"], line["status"]) for line in lines] == [(1, "done"),
                                                                      (2, "declined")]
    assert [(r["km"], r["repair_order_id"]) for r in readings] == [(15000, r1["id"])]
    work = await declined_work(dealer_a.id, v1.id)
    assert [(w.operation_code, w.estimate) for w in work] == [("BRAKE", Decimal("1200.00"))]
    assert (v1.last_odometer_km, v1.last_odometer_on) == (15000, date(2026, 3, 1))
    assert v1.daily_km == pytest.approx(5000 / 59, abs=0.05)  # facts recomputed from the visit


async def test_reimport_changes_nothing_and_a_corrected_line_replaces_the_old(dealer_a) -> None:
    await _customer_base(dealer_a.id)
    await _run_file(dealer_a.id, ORDERS_GBK)
    before = await _stored(dealer_a.id)
    again = await _run_file(dealer_a.id, ORDERS_GBK)
    assert again.applied_rows == 2
    after = await _stored(dealer_a.id)
    assert [len(part) for part in after[:3]] == [len(part) for part in before[:3]] == [1, 2, 1]
    corrected = (HEADER + "R1,V1,保养,2026-03-01 09:30,2026-03-01 16:00,15000,SA01,1,OIL,"
                          "更换机油,400,否\n").encode("gbk")
    await _run_file(dealer_a.id, corrected)
    orders, lines, _, _ = await _stored(dealer_a.id)
    assert Decimal(str(orders["R1"]["total_amount"])) == Decimal("400.00")
    assert [Decimal(str(line["amount"])) for line in lines] == [Decimal("400.00"),
                                                                Decimal("1200.00")]


async def test_only_a_visit_closed_this_week_by_the_import_is_a_new_visit(dealer_a) -> None:
    await _customer_base(dealer_a.id)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    rows = [
        {"external_id": "NEW", "vehicle_external_id": "V2", "ro_type": "repair",
         "opened_at": yesterday, "closed_at": yesterday, "line_no": 1,
         "operation_code": "X", "amount": "88"},
        {"external_id": "OLD", "vehicle_external_id": "V2", "ro_type": "repair",
         "opened_at": "2025-01-02 10:00", "closed_at": "2025-01-02 12:00"},
    ]

    async def closed_events() -> list[str]:
        return [row["payload"]["repair_order_id"] for row in await EventOutbox.select(
            EventOutbox.payload).where((EventOutbox.tenant_id == dealer_a.id)
                                       & (EventOutbox.event_type == "repair_order.closed")
                                       ).output(load_json=True)]

    job = await import_rows(dealer_a.id, "repair_orders", rows, None)
    assert (job.applied_rows, job.error_rows) == (2, 0)
    orders, _, _, _ = await _stored(dealer_a.id)
    assert await closed_events() == [str(orders["NEW"]["id"])]
    await import_rows(dealer_a.id, "repair_orders", rows, None)
    assert len(await closed_events()) == 1  # the second import closes nothing new
