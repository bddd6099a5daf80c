"""Many clients at one technician slot on PostgreSQL, through a real server: one booking."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dealerhub.platform.appointments.tables import Appointment, Hold
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.tenancy import tenant_scope
from tests.platform.appointments.conftest import build_shop, future_day

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
CLIENTS = 40


async def test_concurrent_requests_at_one_slot_book_exactly_once(database, live_server) -> None:
    shop = await build_shop(technicians=1)
    key = (await create_api_key(shop.tenant_id, "load", ["appointments"], None)).plaintext
    payload = {"vehicle_id": str(shop.vehicle_id), "job_codes": ["BRAKE"],
               "starts_at": shop.local(future_day(), 10).isoformat()}
    async with httpx.AsyncClient(base_url=live_server, timeout=60,
                                 limits=httpx.Limits(max_connections=CLIENTS)) as http:
        responses = await asyncio.gather(*[
            http.post("/api/v1/appointments", json=payload,
                      headers={"Authorization": f"Bearer {key}"}) for _ in range(CLIENTS)])
    codes = [response.status_code for response in responses]
    assert codes.count(201) == 1, codes
    assert codes.count(409) == CLIENTS - 1, codes
    async with tenant_scope(shop.tenant_id, write=False):
        assert await Appointment.count_in_tenant() == 1
        # one technician + one bay over 90 min + 15 min buffer: 7 cells each, no duplicates
        assert await Hold.count_in_tenant() == 14
