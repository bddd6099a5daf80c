"""Builds one busy dealer for the appointment benchmarks; run in its own interpreter with the
benchmark database in the environment (Piccolo binds its engine at import).

40 technicians, 30 bays, loaners, drivers, the demo catalogue, customers with vehicles and
`days` of existing bookings written straight into the tables (appointments and the holds
the booking service would have written), about 70% of technician time taken.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from datetime import UTC, datetime, time, timedelta

import asyncpg

from dealerhub.platform import db
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments._availability import Assignment, need_for
from dealerhub.platform.appointments.demo import CATALOGUE
from dealerhub.platform.appointments.schemas import (
    ResourceCreate,
    SettingsUpdate,
    TechnicianCreate,
)
from dealerhub.platform.appointments.tables import Appointment, Hold
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer, Region
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.vehicles.tables import Vehicle

TECHNICIANS, BAYS, QUICK_BAYS = 40, 30, 4
HOURS = {str(day): ["08:00", "18:00"] for day in range(7)}
SKILLS = [["general", "chassis"], ["general", "electrical"], ["general"],
          ["general", "chassis", "electrical"]]
FILL = 0.7


async def build(days: int, vehicles: int, seed: int = 7) -> dict[str, object]:
    rng = random.Random(seed)
    region = Region(code=f"B{rng.randint(0, 99999)}", name_zh="基准", name_en="Bench")
    await Region.insert(region)
    dealer = Dealer(code=f"BA{rng.randint(0, 99999)}", name="Bench 4S", region=region.id,
                    city="上海", time_zone="Asia/Shanghai", latitude=31.22, longitude=121.54)
    await Dealer.insert(dealer)
    tid = dealer.id
    await service.update_settings(tid, SettingsUpdate(opening_hours=HOURS, buffer_minutes=15))
    for index in range(TECHNICIANS):
        await service.add_technician(tid, TechnicianCreate(
            name=f"T{index:02d}", skills=SKILLS[index % len(SKILLS)], shifts=HOURS))
    kinds = ["quick_bay"] * QUICK_BAYS + ["bay"] * (BAYS - QUICK_BAYS) + ["loaner"] * 5 + [
        "driver"] * 3
    for index, kind in enumerate(kinds):
        await service.add_resource(tid, ResourceCreate(kind, f"{kind}-{index}"))  # type: ignore[arg-type]
    for job in CATALOGUE:
        await service.add_job(tid, job)
    async with tenant_scope(tid):
        customers = [Customer(name=f"客户{n}") for n in range(vehicles)]
        await Customer.insert_in_tenant(*customers)
        cars = [Vehicle(customer_id=c.id, vin=f"LBENCH{n:011d}"[:17]) for n, c in
                enumerate(customers)]
        await Vehicle.insert_in_tenant(*cars)
    vehicle_ids = [car.id for car in cars]
    cap = await service.capacity(tid)
    first_day = datetime.now(cap.zone).date() + timedelta(days=1)
    codes = [code for code in cap.jobs if code != "WASH"]
    booked = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        rows, holds, bay_busy = [], [], {}
        for tech in cap.technicians:
            moment = datetime.combine(day, time(8), tzinfo=cap.zone).astimezone(UTC)
            closes = datetime.combine(day, time(18), tzinfo=cap.zone).astimezone(UTC)
            while True:
                need = need_for(cap, [rng.choice([c for c in codes if cap.jobs[c].skill
                                                  in tech.skills])], "")
                end = moment + timedelta(minutes=need.minutes)
                if end > closes:
                    break
                if rng.random() < FILL:
                    span = range(int(moment.timestamp()),
                                 int((end + cap.buffer).timestamp()), 900)
                    bay = next((b for b in cap.resources["bay"] + cap.resources["quick_bay"]
                                if bay_busy.get(b, set()).isdisjoint(span)), None)
                    if bay is not None:
                        bay_busy.setdefault(bay, set()).update(span)
                        row = Appointment(
                            customer_id=customers[booked % vehicles].id,
                            vehicle_id=vehicle_ids[booked % vehicles], technician_id=tech.id,
                            bay_id=bay, starts_at=moment, ends_at=end, channel="api",
                            job_codes=need.codes, estimate_minutes=need.minutes)
                        rows.append(row)
                        holds += [Hold(appointment_id=row.id, resource_id=resource,
                                       slot_start=datetime.fromtimestamp(cell, UTC))
                                  for resource, cell in Assignment(
                                      moment, end, tech.id, bay, None, None).holds(cap)]
                        booked += 1
                moment = end + cap.buffer
        async with tenant_scope(tid):
            await Appointment.insert_in_tenant(*rows)
            for batch in db.chunks(holds, 2000):
                await Hold.insert_in_tenant(*batch)
    key = await create_api_key(tid, "bench", ["appointments"], None)
    await analyze()
    return {"tenant_id": str(tid), "vehicle_ids": [str(v) for v in vehicle_ids],
            "api_key": key.plaintext, "first_day": first_day.isoformat(), "days": days,
            "appointments": booked, "technician_ids": [str(t.id) for t in cap.technicians]}


async def analyze() -> None:
    """Statistics for the loaded tables, as autovacuum would have gathered on a live
    database: without them the planner scans a dealer's appointments for one day's
    advisors and spends milliseconds planning each booking's read."""
    connection = await asyncpg.connect(os.environ["MIGRATION_DATABASE_URL"])
    try:
        await connection.execute("analyze")
    finally:
        await connection.close()


async def main(days: int, vehicles: int) -> None:
    await db.start(get_settings())
    try:
        print(json.dumps(await build(days, vehicles)))
    finally:
        await db.stop(get_settings())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
