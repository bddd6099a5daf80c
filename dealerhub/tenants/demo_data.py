"""Demo customer base for every demo dealer, deterministic by the seed's random generator:
staff linked to the dealer's users, customers with Chinese names and +86 phones, vehicles
with valid VINs, two years of visits (lines, declined work, rework), odometer readings and
consents. Rows go in with bulk inserts; derived facts are computed set-based at the end.

Also used by the benchmarks (`bench/customer_search.py`, `bench/import_vehicles.py`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dealerhub.platform.tables import AppUser, Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.bulk import insert_objects
from dealerhub.tenants.customers.facts import assign_teams, refresh_customer_facts
from dealerhub.tenants.customers.tables import Customer, CustomerConsent
from dealerhub.tenants.fields import vin_check_digit
from dealerhub.tenants.repair_orders.tables import RepairOrder, RepairOrderLine
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.facts import refresh_vehicle_facts
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle, VehicleModel

MODELS = [  # code, name, maintenance km, months, warranty years, km
    ("EXEED-TX", "星途 TX", 10000, 12, 3, 100000),
    ("EXEED-LX", "星途 LX", 7500, 6, 3, 100000),
    ("EXEED-VX", "星途 VX", 10000, 12, 5, 150000),
    ("EXEED-RX", "星途 瑶光", 10000, 12, 5, 150000),
    ("STERRA-ES", "星纪元 ES", 20000, 12, 8, 160000),
]
PROVINCES = {"上海": "沪A", "杭州": "浙A", "南京": "苏A", "苏州": "苏E", "宁波": "浙B",
             "广州": "粤A", "深圳": "粤B", "东莞": "粤S", "厦门": "闽D", "南宁": "桂A",
             "北京": "京A", "天津": "津A", "石家庄": "冀A", "济南": "鲁A", "乌鲁木齐": "新A"}
DISTRICTS = ["中心区", "新区", "高新区", "开发区", "老城区", "滨江区"]
OCCUPATIONS = ["教师", "工程师", "医生", "销售", "公务员", "个体经营", "金融", "IT", "退休"]
OPERATIONS = [  # code, description, low, high, kinds
    ("OIL", "机油机滤更换", 350, 680), ("AIRF", "空气滤清器", 80, 180),
    ("CABF", "空调滤清器", 90, 220), ("BRK", "刹车片更换", 600, 1400),
    ("TIRE", "轮胎更换", 800, 2600), ("BATT", "蓄电池更换", 500, 1200),
    ("ALIGN", "四轮定位", 200, 380), ("WIPER", "雨刮片", 60, 160),
    ("COOL", "冷却液更换", 180, 420), ("BODY", "钣金喷漆", 800, 6000),
]
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def demo_vin(rng: random.Random, year: int) -> str:
    year_code = "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 2010) % 30]
    draft = "LVT" + "".join(rng.choice(VIN_ALPHABET) for _ in range(5)) + "0" + year_code \
        + rng.choice("ABCDEFGH") + f"{rng.randrange(1_000_000):06d}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def demo_plate(rng: random.Random, city: str) -> str:
    return PROVINCES.get(city, "沪A") + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                               for _ in range(5))


def demo_phone(rng: random.Random) -> str:
    return f"+861{rng.choice('3589')}{rng.randrange(10):d}{rng.randrange(100_000_000):08d}"


async def ensure_vehicle_models() -> None:
    have = {row["code"] for row in await VehicleModel.select(VehicleModel.code)}
    missing = [VehicleModel(code=c, name=n, maintenance_km=km, maintenance_months=months,
                            warranty_years=years, warranty_km=wkm)
               for c, n, km, months, years, wkm in MODELS if c not in have]
    if missing:
        await VehicleModel.insert(*missing)


def demo_customer(rng: random.Random, number: int, code: str, city: str,
                  referrers: list[uuid.UUID]) -> Customer:
    from dealerhub.demo import person_name

    phone = demo_phone(rng)
    return Customer(
        id=uuid.UUID(int=rng.getrandbits(128)), external_id=f"{code}-C{number:06d}",
        name=person_name(rng), phone_e164=phone, phone_reversed=phone[::-1],
        email=f"user{number}@example.cn" if rng.random() < 0.4 else None,
        wechat_id=f"wx_{rng.getrandbits(40):010x}" if rng.random() < 0.7 else None,
        gender=rng.choice(("male", "female")),
        birth_date=date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        city=city if rng.random() < 0.85 else rng.choice(list(PROVINCES)),
        district=rng.choice(DISTRICTS), occupation=rng.choice(OCCUPATIONS),
        preferred_channel=rng.choice(("sms", "wechat", "wechat", "voice", "email")),
        customer_type=rng.choice(("value", "convenience", "relationship")),
        category=rng.choices(("won", "potential", "lost", "complaint"), (80, 10, 6, 4))[0],
        referred_by_customer_id=rng.choice(referrers) if referrers and rng.random() < 0.15
        else None,
        locale="en" if rng.random() < 0.05 else "zh-CN",
    )


def visit_dates(rng: random.Random, start: date, today: date) -> Iterator[date]:
    day = start + timedelta(days=rng.randrange(60, 200))
    while day < today:
        yield day
        day += timedelta(days=rng.randrange(90, 260))


async def seed_dealer(rng: random.Random, dealer: Dealer, customers: int,
                      today: date | None = None) -> None:
    today = today or date.today()
    history_start = today - timedelta(days=730)
    users = await AppUser.select(AppUser.id, AppUser.role, AppUser.display_name).where(
        AppUser.dealer == dealer.id)
    kinds = {"service_advisor": "service_advisor", "cs_agent": "cs_agent",
             "dealer_admin": "service_manager"}
    staff = [Staff(id=uuid.UUID(int=rng.getrandbits(128)), user_id=u["id"],
                   name=u["display_name"], kind=kinds[u["role"]])
             for u in users if u["role"] in kinds]
    from dealerhub.demo import person_name

    staff += [Staff(id=uuid.UUID(int=rng.getrandbits(128)), name=person_name(rng), kind=kind)
              for kind in ("sales_consultant", "sales_consultant", "insurance_advisor",
                           "general_manager")]
    advisors = [s.id for s in staff if s.kind == "service_advisor"]
    people: list[Customer] = []
    for number in range(customers):
        people.append(demo_customer(rng, number, dealer.code, dealer.city,
                                    [p.id for p in people[-50:]]))
    vehicles: list[Vehicle] = []
    orders: list[RepairOrder] = []
    lines: list[RepairOrderLine] = []
    readings: list[OdometerReading] = []
    consents: list[CustomerConsent] = []
    for person in people:
        for _ in range(2 if rng.random() < 0.1 else 1):
            year = today.year - rng.randrange(0, 7)
            bought = date(year, 1 + rng.randrange(12), 1 + rng.randrange(28))
            bought = min(bought, today - timedelta(days=30))
            model = rng.choice(MODELS)
            vehicle = Vehicle(
                id=uuid.UUID(int=rng.getrandbits(128)), customer_id=person.id,
                external_id=f"{dealer.code}-V{len(vehicles):06d}", vin=demo_vin(rng, year),
                plate=demo_plate(rng, dealer.city), model_code=model[0], model_year=year,
                purchase_date=bought,
                insurance_expiry=bought.replace(year=today.year) + timedelta(
                    days=365 if bought.replace(year=today.year) < today else 0),
                open_recalls=["RC-2025-07"] if rng.random() < 0.05 else [],
            )
            vehicles.append(vehicle)
            daily = rng.uniform(15, 90)
            last: RepairOrder | None = None
            for day in visit_dates(rng, max(bought, history_start), today):
                km = int((day - bought).days * daily * rng.uniform(0.95, 1.05))
                km = max(km, last.mileage_km + 100 if last and last.mileage_km else 0)
                kind = rng.choices(("maintenance", "repair", "warranty", "accident",
                                    "insurance"), (70, 15, 6, 5, 4))[0]
                last = _visit(rng, orders, lines, readings, vehicle, person, day, km, kind,
                              advisors)
                if rng.random() < 0.04:  # a comeback: the same fault again within two weeks
                    again = min(day + timedelta(days=rng.randrange(2, 14)), today)
                    last = _visit(rng, orders, lines, readings, vehicle, person, again,
                                  km + 150, "rework", advisors)
        now = datetime.combine(history_start, datetime.min.time(), UTC)
        for purpose, chance in (("service", 0.9), ("marketing", 0.6)):
            for channel in ("sms", "wechat"):
                consents.append(CustomerConsent(customer_id=person.id, purpose=purpose,
                                                channel=channel, granted=rng.random() < chance,
                                                changed_at=now, source="demo:paper form"))
    async with tenant_scope(dealer.id):
        await insert_objects(Staff, staff)
        await insert_objects(Customer, people)
        await insert_objects(Vehicle, vehicles)
        await insert_objects(RepairOrder, orders)
        await insert_objects(RepairOrderLine, lines)
        await insert_objects(OdometerReading, readings)
        await insert_objects(CustomerConsent, consents)
        await refresh_vehicle_facts([v.id for v in vehicles])
        await refresh_customer_facts([p.id for p in people])
        await assign_teams([p.id for p in people])


def _visit(rng: random.Random, orders: list[RepairOrder], lines: list[RepairOrderLine],
           readings: list[OdometerReading], vehicle: Vehicle, person: Customer, day: date,
           km: int, kind: str, advisors: list[uuid.UUID]) -> RepairOrder:
    opened = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
        hours=1 + rng.randrange(8), minutes=rng.randrange(60))
    order = RepairOrder(
        id=uuid.UUID(int=rng.getrandbits(128)),
        external_id=f"RO-{vehicle.external_id}-{len(orders)}",
        vehicle_id=vehicle.id, customer_id=person.id,
        advisor_staff_id=rng.choice(advisors) if advisors else None, ro_type=kind,
        status="closed", opened_at=opened, closed_at=opened + timedelta(hours=rng.uniform(1, 6)),
        mileage_km=km,
        intake={"complaint": "例行保养" if kind == "maintenance" else "客户反映异响"},
    )
    total = Decimal("0")
    for code, description, low, high in rng.sample(OPERATIONS, rng.randrange(1, 4)):
        amount = Decimal(rng.randrange(low, high)).quantize(Decimal("0.01"))
        declined = rng.random() < 0.12
        lines.append(RepairOrderLine(repair_order_id=order.id, vehicle_id=vehicle.id,
                                     operation_code=code, description=description,
                                     amount=amount, status="declined" if declined else "done"))
        total += Decimal(0) if declined else amount
    order.total_amount = total
    orders.append(order)
    readings.append(OdometerReading(vehicle_id=vehicle.id, read_on=day, km=km,
                                    source="repair_order", repair_order_id=order.id))
    return order


async def seed_customer_base(rng: random.Random, dealers: Sequence[Dealer],
                             customers_per_dealer: int) -> None:
    """The `dealerhub.demo.SEED_HOOKS` entry."""
    await ensure_vehicle_models()
    for dealer in dealers:
        await seed_dealer(rng, dealer, customers_per_dealer)
