"""Imports in many batches: read and checked while the batch before is written, applied in
file order, each bad row reported with its row number, and a second run of the same file
changing nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date

import pytest

from dealerhub.platform import db
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.facts import refresh_customer_facts
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.imports import kinds, readers, service
from dealerhub.tenants.imports.kinds import SeenKeys
from dealerhub.tenants.imports.service import create_import, import_errors, import_rows, run_import
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle
from tests.tenants.factories import make_vin

pytestmark = pytest.mark.anyio

HEADER = "vehicle_id,owner_id,vin,plate,model,purchase_date,insurance_expiry,mileage,mileage_date\n"


def _row(external_id: str, owner: str, vin: str, km: int = 12000) -> str:
    return f"{external_id},{owner},{vin},沪A{km % 100000:05d},EXEED-TX,2023-05-01,2026-05-01," \
           f"{km},2024-05-01\n"


async def _run(tenant_id, content: bytes):
    job = await create_import(tenant_id, "vehicles", "vehicles.csv", [content], None)
    return await run_import(tenant_id, job.id)


async def _stored(tenant_id) -> tuple[list, list, list, int]:
    async with tenant_scope(tenant_id, write=False):
        vehicles = await Vehicle.select_in_tenant().order_by(Vehicle.external_id)
        readings = await OdometerReading.select_in_tenant().order_by(OdometerReading.id)
        customers = await Customer.select_in_tenant().order_by(Customer.id)
    events = await EventOutbox.count().where(EventOutbox.tenant_id == tenant_id)
    return vehicles, readings, customers, events


async def test_importing_the_same_file_again_changes_nothing(dealer_a, monkeypatch) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", 2)
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"},
                                                 {"external_id": "C2", "name": "李娜"}], None)
    content = (HEADER + _row("V1", "C1", make_vin()) + _row("V2", "C2", make_vin(), 30000)
               + _row("V3", "C1", make_vin(), 5000)).encode()
    first = await _run(dealer_a.id, content)
    assert (first.status, first.applied_rows, first.error_rows) == ("done", 3, 0)
    before = await _stored(dealer_a.id)
    assert len(before[0]) == 3 and len(before[1]) == 3 and before[3] > 0
    assert all(v["daily_km"] and v["next_maintenance_date"] for v in before[0])
    again = await _run(dealer_a.id, content)
    assert (again.status, again.applied_rows, again.error_rows) == ("done", 3, 0)
    assert await _stored(dealer_a.id) == before


async def test_bad_rows_among_good_ones_across_batches(dealer_a, monkeypatch) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", 2)
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    bad_vin = make_vin()
    bad_vin = bad_vin[:8] + ("0" if bad_vin[8] != "0" else "1") + bad_vin[9:]
    content = (HEADER
               + _row("V1", "C1", make_vin()) + _row("V2", "C1", bad_vin)       # batch 1
               + _row("V3", "C1", make_vin()) + _row("V1", "C1", make_vin())   # batch 2
               + _row("V4", "C404", make_vin()) + _row("V5", "C1", make_vin())  # batch 3
               ).encode()
    job = await _run(dealer_a.id, content)
    assert (job.status, job.processed_rows, job.applied_rows, job.error_rows) == \
        ("done", 6, 3, 3)
    assert job.processed_bytes == job.total_bytes == len(content)
    assert {(e.row_number, e.field) for e in await import_errors(dealer_a.id, job.id)} == {
        (3, "vin"), (5, "external_id"), (6, "customer_external_id")}
    vehicles, readings, _, _ = await _stored(dealer_a.id)
    assert [v["external_id"] for v in vehicles] == ["V1", "V3", "V5"]
    assert len(readings) == 3


async def test_a_file_unreadable_midway_keeps_the_whole_batches_before(dealer_a,
                                                                       monkeypatch) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", 50)
    monkeypatch.setattr(readers, "SNIFF_BYTES", 100)  # the sniff sees only the good start
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    good = "".join(_row(f"V{n}", "C1", make_vin(), 1000 + n) for n in range(300))
    content = (HEADER + good).encode() + b"V999,C1,\xff\xfe\xfd\n"
    job = await _run(dealer_a.id, content)
    assert job.status == "failed" and "utf-8" in job.file_error
    vehicles, _, _, _ = await _stored(dealer_a.id)
    # only complete batches were applied, every row of them, and nothing after the damage
    assert 0 < job.applied_rows < 300 and job.applied_rows % 50 == 0
    assert job.processed_rows == job.applied_rows == len(vehicles)


async def _analyses(table: str) -> int:
    rows = await db.fetch("select analyze_count as n from pg_stat_user_tables "
                          "where relname = {}", table)
    return rows[0]["n"]


@pytest.mark.postgres
async def test_a_large_import_refreshes_the_statistics_of_what_it_grows(dealer_a,
                                                                        monkeypatch) -> None:
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    before = [await _analyses(t) for t in ("vehicle", "odometer_reading", "customer")]
    monkeypatch.setattr(service, "BATCH_ROWS", 1)
    two_batches = await _run(dealer_a.id, (HEADER + _row("V8", "C1", make_vin())
                                           + _row("V9", "C1", make_vin())).encode())
    assert two_batches.applied_rows == 2
    assert [await _analyses(t) for t in ("vehicle", "odometer_reading")] == before[:2]
    content = HEADER + "".join(_row(f"V{n}", "C1", make_vin(), 1000 * n) for n in range(1, 7))
    job = await _run(dealer_a.id, content.encode())
    assert (job.status, job.applied_rows) == ("done", 6)
    # once the 2nd and the 4th of its 6 batches are written (two are written at once, so
    # the last two end together), and only the tables vehicles grow
    after = [await _analyses(t) for t in ("vehicle", "odometer_reading", "customer")]
    assert after == [before[0] + 2, before[1] + 2, before[2]]


def test_seen_keys_finds_a_repeat_in_every_run(monkeypatch) -> None:
    monkeypatch.setattr(SeenKeys, "SEGMENT", 3)
    seen = SeenKeys()
    keys = [hash(f"V{n}") for n in range(1000)]
    for key in keys:
        assert key not in seen
        seen.add(key)
    assert all(key in seen for key in keys)
    assert hash("V1000") not in seen
    # 333 runs of 3 merged as they come: one run per bit of 333 (0b101001101)
    assert seen.runs == 5


async def test_readings_and_events_of_an_imported_batch(dealer_a) -> None:
    """The readings come from the staged rows (no second load), one per row with a mileage;
    every new vehicle with a policy expiry has its `insurance.renewal_due`."""
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    vins = [make_vin() for _ in range(3)]
    job = await import_rows(dealer_a.id, "vehicles", [
        {"external_id": "V1", "customer_external_id": "C1", "vin": vins[0],
         "odometer_km": "12000", "odometer_on": "2024-05-01", "insurance_expiry": "2026-05-01"},
        {"external_id": "V2", "customer_external_id": "C1", "vin": vins[1],
         "odometer_km": "", "insurance_expiry": "2027-01-31"},
        {"external_id": "V3", "customer_external_id": "C1", "vin": vins[2],
         "odometer_km": "30000", "odometer_on": "2024-06-01", "insurance_expiry": ""}], None)
    assert (job.applied_rows, job.error_rows) == (3, 0)
    vehicles, readings, (customer,), _ = await _stored(dealer_a.id)
    ids = {v["external_id"]: v["id"] for v in vehicles}
    assert sorted((r["vehicle_id"], r["km"], str(r["read_on"]), r["source"]) for r in readings) \
        == sorted([(ids["V1"], 12000, "2024-05-01", "import"),
                   (ids["V3"], 30000, "2024-06-01", "import")])
    assert len({r["id"] for r in readings}) == 2 and None not in {r["id"] for r in readings}
    dues = await EventOutbox.select(EventOutbox.payload).where(
        EventOutbox.tenant_id == dealer_a.id, EventOutbox.event_type == "insurance.renewal_due")
    payloads = sorted((json.loads(d["payload"]) if isinstance(d["payload"], str)
                       else d["payload"] for d in dues), key=lambda p: p["expiry"])
    assert payloads == [
        {"vehicle_id": str(ids["V1"]), "customer_id": str(customer["id"]), "staff_id": None,
         "expiry": "2026-05-01", "due_at": "2026-05-01T12:00:00+00:00"},
        {"vehicle_id": str(ids["V2"]), "customer_id": str(customer["id"]), "staff_id": None,
         "expiry": "2027-01-31", "due_at": "2027-01-31T12:00:00+00:00"}]


async def test_a_vin_repeated_in_a_later_batch_is_refused_there(dealer_a, monkeypatch) -> None:
    """Batches may be written side by side, so a VIN is checked across the whole file
    before any is written: the first row keeps it, whichever batch commits first."""
    monkeypatch.setattr(service, "BATCH_ROWS", 2)
    await import_rows(dealer_a.id, "customers", [{"external_id": "C1", "name": "王伟"}], None)
    vin = make_vin()
    content = (HEADER + _row("V1", "C1", vin) + _row("V2", "C1", make_vin())
               + _row("V3", "C1", make_vin()) + _row("V4", "C1", vin)).encode()
    job = await _run(dealer_a.id, content)
    assert (job.status, job.applied_rows, job.error_rows) == ("done", 3, 1)
    (error,) = await import_errors(dealer_a.id, job.id)
    assert (error.row_number, error.field) == (5, "vin")
    assert "more than once in this file" in error.reason
    vehicles, _, _, _ = await _stored(dealer_a.id)
    assert {v["external_id"]: v["vin"] for v in vehicles}["V1"] == vin


@pytest.mark.postgres
async def test_batches_written_at_once_leave_every_customer_fact_right(dealer_a,
                                                                       monkeypatch) -> None:
    """Every customer has vehicles in every batch, and two batches are written at once:
    the facts stored at the end are what a recomputation gives, and the counters add up."""
    monkeypatch.setattr(service, "BATCH_ROWS", 4)
    in_flight, peak = 0, 0
    vehicles_kind = kinds.KINDS["vehicles"]

    async def counted(checked):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05)  # the next batch is checked by now
            return await vehicles_kind.apply(checked)
        finally:
            in_flight -= 1

    monkeypatch.setitem(kinds.KINDS, "vehicles", dataclasses.replace(vehicles_kind,
                                                                     apply=counted))
    owners = [f"C{n}" for n in range(4)]
    await import_rows(dealer_a.id, "customers", [{"external_id": o, "name": "王伟"}
                                                 for o in owners], None)
    rows = []
    for n in range(24):  # the youngest car with mileage comes in the last batch
        bought = date(2012 + n // 4 * 2, 3, 1)
        km = 0 if n < 20 else 40_000
        rows.append(f"V{n},{owners[n % 4]},{make_vin()},沪A{n:05d},EXEED-TX,{bought},"
                    f"2026-05-01,{km},2024-05-01\n")
    content = (HEADER + "".join(rows)).encode()
    job = await _run(dealer_a.id, content)
    assert peak == 2
    assert (job.status, job.processed_rows, job.applied_rows, job.error_rows) == \
        ("done", 24, 24, 0)
    assert job.processed_bytes == job.total_bytes
    _, _, imported, _ = await _stored(dealer_a.id)
    async with tenant_scope(dealer_a.id):
        await refresh_customer_facts([c["id"] for c in imported])
    _, _, recomputed, _ = await _stored(dealer_a.id)
    assert imported == recomputed
    assert {c["quality_score"] for c in imported} == {50}  # real user, car of suitable age


async def test_stored_errors_stop_at_the_cap_with_batches_written_at_once(dealer_a,
                                                                          monkeypatch) -> None:
    """Every refused row is counted; only the first MAX_STORED_ERRORS are kept, even when
    two batches take their room at the same time."""
    monkeypatch.setattr(service, "BATCH_ROWS", 2)
    monkeypatch.setattr(service, "MAX_STORED_ERRORS", 3)
    vehicles_kind, arrived, both = kinds.KINDS["vehicles"], [], asyncio.Event()

    async def together(checked):  # the first two batches end their checks at once
        outcome = await vehicles_kind.apply(checked)
        arrived.append(checked)
        if len(arrived) == 2 or not db.is_postgres():
            both.set()
        if len(arrived) <= 2:
            await both.wait()
        return outcome

    monkeypatch.setitem(kinds.KINDS, "vehicles", dataclasses.replace(vehicles_kind,
                                                                     apply=together))
    content = HEADER + "".join(_row(f"V{n}", "C404", make_vin(), 1000 + n) for n in range(8))
    job = await _run(dealer_a.id, content.encode())
    assert (job.status, job.processed_rows, job.applied_rows, job.error_rows) == \
        ("done", 8, 0, 8)
    stored = await import_errors(dealer_a.id, job.id)
    assert len(stored) == 3 and {e.field for e in stored} == {"customer_external_id"}


@pytest.mark.postgres
async def test_two_imports_of_one_dealer_at_once_share_customers_without_deadlock(
        dealer_a, monkeypatch) -> None:
    """Two files imported at the same time (four batch transactions in flight), their
    vehicles owned by the same customers in shuffled order: both finish, every row is
    applied once, and the facts are what a recomputation gives."""
    monkeypatch.setattr(service, "BATCH_ROWS", 5)
    owners = [f"C{n}" for n in range(6)]
    await import_rows(dealer_a.id, "customers", [{"external_id": o, "name": "王伟"}
                                                 for o in owners], None)
    files = []
    for file_no in range(2):
        order = owners[::-1] if file_no else owners
        files.append((HEADER + "".join(
            _row(f"F{file_no}V{n}", order[n % 6], make_vin(), 1000 * (n + 1))
            for n in range(30))).encode())
    jobs = await asyncio.wait_for(asyncio.gather(*(_run(dealer_a.id, f) for f in files)), 60)
    assert [(j.status, j.applied_rows, j.error_rows) for j in jobs] == [("done", 30, 0)] * 2
    vehicles, readings, imported, _ = await _stored(dealer_a.id)
    assert len(vehicles) == 60 and len(readings) == 60
    async with tenant_scope(dealer_a.id):
        await refresh_customer_facts([c["id"] for c in imported])
    assert (await _stored(dealer_a.id))[2] == imported
