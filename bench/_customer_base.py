"""Shared set-up for the customer-base benchmarks: run inside a fresh interpreter whose
environment points at the benchmark database (see `bench.common.run_python`)."""

from __future__ import annotations

import asyncio
import csv
import json
import random
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

from dealerhub.platform import db
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer, Region
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.bulk import insert_objects
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.demo_data import (
    MODELS,
    demo_customer,
    demo_plate,
    demo_vin,
    ensure_vehicle_models,
)
from dealerhub.tenants.vehicles.tables import Vehicle

BATCH = 5000


async def make_dealer(code: str) -> Dealer:
    region = await Region.objects().where(Region.code == "BENCH").first()
    if region is None:
        region = Region(code="BENCH", name_zh="基准", name_en="Bench")
        await Region.insert(region)
    dealer = Dealer(code=code, name=f"基准经销商 {code}", region=region.id, city="上海")
    await Dealer.insert(dealer)
    return dealer


async def add_customers(rng: random.Random, dealer: Dealer, count: int,
                        with_vehicles: bool) -> None:
    for start in range(0, count, BATCH):
        people = [demo_customer(rng, number, dealer.code, dealer.city, [])
                  for number in range(start, min(count, start + BATCH))]
        vehicles = [Vehicle(customer_id=p.id, external_id=f"{dealer.code}-V{start + i:07d}",
                            vin=demo_vin(rng, 2020), plate=demo_plate(rng, dealer.city),
                            model_code=MODELS[i % len(MODELS)][0], model_year=2020,
                            purchase_date=date(2020, 1, 1) + timedelta(days=i % 1500))
                    for i, p in enumerate(people)] if with_vehicles else []
        async with tenant_scope(dealer.id):
            await insert_objects(Customer, people)
            await insert_objects(Vehicle, vehicles)


def vehicle_rows(rng: random.Random, count: int, customers: int, code: str):
    """The DMS vehicle export the import benchmark reads: one row per vehicle."""
    today = date.today()
    for number in range(count):
        bought = today - timedelta(days=30 + rng.randrange(2000))
        yield {"external_id": f"DMS-V{number:07d}",
               "customer_external_id": f"{code}-C{number % customers:06d}",
               "vin": demo_vin(rng, bought.year), "plate": demo_plate(rng, "上海"),
               "model_code": MODELS[number % len(MODELS)][0], "model_year": bought.year,
               "purchase_date": bought.isoformat(),
               "insurance_expiry": (bought + timedelta(days=365 * (1 + (today - bought).days
                                                                   // 365))).isoformat(),
               "odometer_km": (today - bought).days * (20 + number % 60),
               "odometer_on": today.isoformat()}


async def setup_import(rows: int, folder: str) -> dict[str, str]:
    """Two dealers with the same customers; the DMS CSV for ours and a COPY file for the
    baseline (ids resolved, so COPY does only the loading)."""
    await db.start(get_settings())
    await ensure_vehicle_models()
    rng = random.Random(7)
    customers = max(1, rows // 4)
    ours, theirs = await make_dealer("BIMP"), await make_dealer("BCPY")
    await add_customers(random.Random(1), ours, customers, False)
    await add_customers(random.Random(1), theirs, customers, False)
    async with tenant_scope(theirs.id, write=False):
        ids = {r["external_id"]: str(r["id"]) for r in await Customer.select_in_tenant(
            Customer.id, Customer.external_id)}
    path, copy_path = Path(folder) / "vehicles.csv", Path(folder) / "vehicles.copy.csv"
    with path.open("w", newline="", encoding="utf-8") as dms, \
            copy_path.open("w", newline="", encoding="utf-8") as raw:
        writer, copier = None, csv.writer(raw)
        for row in vehicle_rows(rng, rows, customers, "BCPY"):
            copier.writerow([theirs.id, uuid.uuid4(), row["external_id"],
                             ids[row["customer_external_id"]], row["vin"], row["plate"],
                             row["model_code"], row["model_year"], row["purchase_date"],
                             row["insurance_expiry"], "[]"])
            row["customer_external_id"] = row["customer_external_id"].replace("BCPY", "BIMP")
            if writer is None:
                writer = csv.DictWriter(dms, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
    await db.stop(get_settings())
    return {"tenant_id": str(ours.id), "csv": str(path), "copy": str(copy_path)}


async def setup_search(customers: int) -> dict[str, str]:
    await db.start(get_settings())
    await ensure_vehicle_models()
    dealer = await make_dealer("BSRCH")
    await add_customers(random.Random(3), dealer, customers, True)
    await make_dealer("BOTHER")
    async with tenant_scope(dealer.id, write=False):
        sample = await Customer.select_in_tenant(Customer.name, Customer.phone_e164).limit(200)
        plates = await Vehicle.select_in_tenant(Vehicle.plate, Vehicle.vin).limit(200)
    await db.stop(get_settings())
    return {"tenant_id": str(dealer.id),
            "queries": json.dumps({"name": [s["name"][:2] for s in sample[:50]],
                                   "phone": [s["phone_e164"][-4:] for s in sample[50:100]],
                                   "plate": [p["plate"][:5] for p in plates[:50]],
                                   "vin": [p["vin"][:9] for p in plates[50:100]]})}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "import":
        print(json.dumps(asyncio.run(setup_import(int(sys.argv[2]), sys.argv[3]))))
    else:
        print(json.dumps(asyncio.run(setup_search(int(sys.argv[2])))))
