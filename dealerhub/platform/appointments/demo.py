"""Demo capacity for every demo dealer (opening hours, bays, technicians, catalogue) and
some upcoming appointments; registered in `dealerhub.demo.SEED_HOOKS`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dealerhub.platform.appointments import _ports as ports
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import (
    AppointmentCreate,
    Intake,
    JobCreate,
    ResourceCreate,
    SettingsUpdate,
    TechnicianCreate,
)
from dealerhub.platform.appointments.tables import DEFAULT_HOURS
from dealerhub.platform.tables import Dealer

CATALOGUE = [
    JobCreate(code="OIL", name_zh="机油机滤更换", name_en="Oil and filter change",
              duration_minutes=30, skill="general", labour_price_fen=15000,
              parts_price_fen=35000, mobile=True, keywords=["oil", "机油", "保养"]),
    JobCreate(code="MAINT", name_zh="常规保养", name_en="Scheduled maintenance",
              duration_minutes=90, skill="general", labour_price_fen=40000,
              parts_price_fen=60000, keywords=["maintenance", "保养到期"]),
    JobCreate(code="FIRST_MAINT", name_zh="首次保养", name_en="First maintenance",
              duration_minutes=60, skill="general", labour_price_fen=0,
              parts_price_fen=30000),
    JobCreate(code="BRAKE", name_zh="刹车检修", name_en="Brake repair", duration_minutes=90,
              skill="chassis", labour_price_fen=50000, parts_price_fen=80000,
              keywords=["brake", "刹车", "异响"]),
    JobCreate(code="TYRE", name_zh="轮胎更换/动平衡", name_en="Tyres and balancing",
              duration_minutes=45, skill="chassis", labour_price_fen=10000,
              parts_price_fen=80000, keywords=["tyre", "tire", "轮胎", "跑偏"]),
    JobCreate(code="ELEC", name_zh="电气诊断", name_en="Electrical diagnosis",
              duration_minutes=60, skill="electrical", labour_price_fen=30000,
              keywords=["battery", "电瓶", "灯", "启动"]),
    JobCreate(code="AC", name_zh="空调检修", name_en="Air-conditioning service",
              duration_minutes=60, skill="electrical", labour_price_fen=25000,
              parts_price_fen=20000, keywords=["空调", "air con", "a/c"]),
    JobCreate(code="WASH", name_zh="精致洗车", name_en="Car wash", duration_minutes=20,
              skill="general", labour_price_fen=5000, mobile=True, keywords=["wash", "洗车"]),
    JobCreate(code="DIAG", name_zh="故障诊断", name_en="Diagnosis", duration_minutes=60,
              skill="general", labour_price_fen=20000),
]
SKILL_SETS = [["general", "chassis"], ["general", "electrical"], ["general"],
              ["general", "chassis", "electrical"]]
TECH_NAMES = ["陈师傅", "王师傅", "李师傅", "赵师傅", "刘师傅", "周师傅", "吴师傅", "孙师傅"]
PROBLEMS = ["", "", "刹车时有异响", "空调不凉", "仪表盘故障灯亮", "方向跑偏"]


async def equip_dealer(dealer_id: object, rng: random.Random) -> None:
    """Hours, bays, loaners, drivers, technicians and the catalogue for one dealer."""
    await service.update_settings(dealer_id, SettingsUpdate(
        opening_hours=DEFAULT_HOURS, slot_minutes=15, buffer_minutes=15, pickup_minutes=60,
        free_pickup_km=10.0))
    resources = [("bay", f"{n}号工位") for n in range(1, 7)] + [
        ("quick_bay", "快修1"), ("quick_bay", "快修2"), ("loaner", "代步车A"),
        ("loaner", "代步车B"), ("driver", "司机小张"), ("driver", "司机小李")]
    for kind, name in resources:
        await service.add_resource(dealer_id, ResourceCreate(kind, name))  # type: ignore[arg-type]
    shift = {day: ["08:30", "17:30"] for day in ("0", "1", "2", "3", "4", "5")}
    for index, name in enumerate(TECH_NAMES):
        await service.add_technician(dealer_id, TechnicianCreate(
            name=name, skills=SKILL_SETS[index % len(SKILL_SETS)],
            shifts=shift | ({"6": ["09:00", "17:00"]} if rng.random() < 0.5 else {})))
    for job in CATALOGUE:
        await service.add_job(dealer_id, job)


async def book_upcoming(dealer: Dealer, rng: random.Random, count: int) -> int:
    """Appointments over the next week for some of the dealer's vehicles."""
    zone = ZoneInfo(dealer.time_zone)
    today = datetime.now(zone).date()
    booked = 0
    for vehicle in await ports.sample_vehicles(dealer.id, count):
        day = today + timedelta(days=rng.randint(1, 7))
        wall = time(rng.randint(8, 15), rng.choice((0, 15, 30, 45)))
        problem = rng.choice(PROBLEMS)
        data = AppointmentCreate(
            vehicle_id=vehicle.id,
            starts_at=datetime.combine(day, wall, tzinfo=zone).astimezone(UTC),
            job_codes=[] if problem else [rng.choice(["OIL", "MAINT", "TYRE", "WASH"])],
            intake=Intake(problem=problem), loaner=rng.random() < 0.1)
        try:
            await service.book(dealer.id, data, channel=rng.choice(["portal", "api"]),
                               actor="demo")
        except (service.CapacityError, service.SlotTaken):
            continue
        booked += 1
    return booked


async def seed_demo(rng: random.Random, dealers: Sequence[Dealer],
                    customers_per_dealer: int) -> None:
    """The `dealerhub.demo.SEED_HOOKS` entry: runs after the customer base is seeded."""
    for dealer in dealers:
        await equip_dealer(dealer.id, rng)
        await book_upcoming(dealer, rng, min(40, customers_per_dealer // 5))
