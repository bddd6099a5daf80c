"""A dealer with a small, known capacity model, a customer and a vehicle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import (
    JobCreate,
    ResourceCreate,
    SettingsUpdate,
    TechnicianCreate,
)
from tests.conftest import DealerFixture, create_dealer
from tests.support.processes import AppServer
from tests.tenants.factories import new_customer, new_vehicle

ALL_WEEK = {str(day): ["08:00", "18:00"] for day in range(7)}
# 上海浦东 dealer position; points east of it along the same latitude.
DEALER_LAT, DEALER_LON = 31.2215, 121.5440
JOBS = [
    JobCreate(code="OIL", name_zh="机油保养", name_en="Oil service", duration_minutes=30,
              skill="general", labour_price_fen=20000, parts_price_fen=30000, mobile=True,
              keywords=["oil", "机油", "保养"]),
    JobCreate(code="BRAKE", name_zh="刹车检修", name_en="Brake repair", duration_minutes=90,
              skill="general", labour_price_fen=40000, parts_price_fen=60000,
              keywords=["brake", "刹车", "squeal", "异响"]),
    JobCreate(code="ELEC", name_zh="电路诊断", name_en="Electrical diagnosis",
              duration_minutes=60, skill="electrical", labour_price_fen=30000,
              keywords=["battery", "电瓶", "light"]),
    JobCreate(code="DIAG", name_zh="故障诊断", name_en="Diagnosis", duration_minutes=60,
              skill="general", labour_price_fen=15000),
    JobCreate(code="FIRST_MAINT", name_zh="首次保养", name_en="First maintenance",
              duration_minutes=60, skill="general", labour_price_fen=0, parts_price_fen=20000),
]


@dataclass
class Shop:
    dealer: DealerFixture
    tenant_id: uuid.UUID
    zone: ZoneInfo
    customer_id: uuid.UUID
    vehicle_id: uuid.UUID
    technicians: dict[str, uuid.UUID]
    resources: dict[str, uuid.UUID]

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall time at the dealer as a UTC instant."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)


def future_day(days_ahead: int = 7) -> date:
    return (datetime.now(UTC) + timedelta(days=days_ahead)).date()


async def build_shop(time_zone: str = "Asia/Shanghai", technicians: int = 2,
                     hours: dict[str, list[str] | None] | None = None) -> Shop:
    dealer = await create_dealer(time_zone=time_zone, latitude=DEALER_LAT, longitude=DEALER_LON)
    return await equip(dealer, technicians, hours)


async def equip(dealer: DealerFixture, technicians: int = 2,
                hours: dict[str, list[str] | None] | None = None) -> Shop:
    """Give a dealer the small capacity model, a customer and a vehicle."""
    tid = dealer.id
    time_zone = await _zone(tid)
    await service.update_settings(tid, SettingsUpdate(opening_hours=hours or ALL_WEEK,
                                                      buffer_minutes=15, slot_minutes=15))
    techs = {}
    for index in range(technicians):
        skills = ["general", "electrical"] if index == 0 else ["general"]
        row = await service.add_technician(tid, TechnicianCreate(
            name=f"Tech {index}", skills=skills, shifts=hours or ALL_WEEK))
        techs[f"tech{index}"] = row.id
    resources = {}
    for kind, name in [("bay", "Bay 1"), ("bay", "Bay 2"), ("quick_bay", "Quick 1"),
                       ("loaner", "Loaner 1"), ("driver", "Driver 1")]:
        resources[name] = (await service.add_resource(tid, ResourceCreate(kind, name))).id
    for job in JOBS:
        await service.add_job(tid, job)
    customer = await new_customer(tid)
    vehicle = await new_vehicle(tid, customer.id, open_recalls=["R-2026-001"])
    return Shop(dealer, tid, ZoneInfo(time_zone), customer.id, vehicle.id, techs, resources)


async def _zone(tenant_id: uuid.UUID) -> str:
    from dealerhub.platform.tables import Dealer

    row = await Dealer.select(Dealer.time_zone).where(Dealer.id == tenant_id).first()
    return row["time_zone"]


@pytest.fixture
async def shop(database: None) -> Shop:
    return await build_shop()


STARTUP_SECONDS = 120  # importing every component takes ~20 s on a busy 2-core machine


@pytest.fixture
def live_server() -> Iterator[str]:
    """The app served by `dealerhub serve` in its own process, on the test database."""
    server = AppServer().start()
    try:
        server.wait_ready(STARTUP_SECONDS)
        yield server.url
    finally:
        server.stop()
