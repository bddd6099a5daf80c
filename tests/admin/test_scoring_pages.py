"""Headquarters benchmark pages and the dealer scorecard over HTTP: who may see what,
downloads, bad input."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest

from dealerhub.platform.scoring import service
from dealerhub.platform.scoring.tables import ScoringSetting
from tests.conftest import login_page_session
from tests.platform.scoring.test_benchmarks import put

pytestmark = pytest.mark.anyio


@pytest.fixture
async def network(dealer_factory):
    """Six dealers with figures in a month of their own, benchmarks refreshed."""
    month = date(random.randint(3000, 9000), random.randint(1, 12), 1)
    dealers = [await dealer_factory() for _ in range(6)]
    for index, dealer in enumerate(dealers):
        for key, base in (("csat", 70), ("rework_rate", 2), ("appointment_rate", 40)):
            await put(dealer.id, key, month, base + 3 * index, 100)
    await service.refresh_benchmarks("month", month)
    return month, dealers


async def test_dealer_scorecard_shows_only_its_own_name(client, network) -> None:
    month, dealers = network
    me = dealers[2]
    await login_page_session(client, me.emails["service_advisor"])
    page = await client.get(f"/scorecard?grain=month&period={month}")
    assert page.status_code == 200, page.text
    from dealerhub.platform.tables import Dealer

    names = {row["id"]: row["name"] for row in await Dealer.select(Dealer.id, Dealer.name)}
    assert names[me.id] in page.text
    assert not [n for i, n in names.items() if i != me.id and n in page.text]
    assert 'id="chart-data"' in page.text and "Q" in page.text
    csv = await client.get(f"/scorecard/export.csv?grain=month&period={month}")
    assert csv.status_code == 200 and "csat" in csv.text
    assert not [n for i, n in names.items() if i != me.id and n in csv.text]
    png = await client.get(f"/scorecard/report.png?grain=month&period={month}")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (await client.get("/hq/scoring")).status_code == 403


async def test_headquarters_dashboard_league_drill_and_compare(client, oem, network) -> None:
    month, dealers = network
    await login_page_session(client, oem.emails["oem_analyst"])
    dashboard = await client.get(f"/hq/scoring?grain=month&period={month}")
    assert dashboard.status_code == 200, dashboard.text
    assert dealers[0].code in dashboard.text
    drill = await client.get(f"/hq/scoring/dealers/{dealers[0].id}?grain=month&period={month}")
    assert drill.status_code == 200
    assert (await client.get(f"/hq/scoring/dealers/{uuid.uuid4()}")).status_code == 404
    metric = await client.get(f"/hq/scoring/metrics/csat?grain=month&period={month}")
    assert metric.status_code == 200 and dealers[5].code in metric.text
    assert (await client.get("/hq/scoring/metrics/nope")).status_code == 404
    compare = await client.get(
        f"/hq/scoring/compare?grain=month&period={month}"
        f"&dealer={dealers[0].id}&dealer={dealers[1].id}")
    assert compare.status_code == 200 and compare.text.count('href="/hq/scoring/dealers/') >= 2
    csv = await client.get(f"/hq/scoring/league.csv?grain=month&period={month}")
    assert csv.status_code == 200 and dealers[3].code in csv.text
    assert (await client.get("/scorecard")).status_code == 403


async def test_bad_period_is_a_400_naming_the_field(client, oem) -> None:
    await login_page_session(client, oem.emails["oem_analyst"])
    response = await client.get("/hq/scoring?grain=decade", headers={"accept": "application/json"})
    assert response.status_code == 400 and "grain" in response.text
    response = await client.get("/hq/scoring?period=yesterday",
                                headers={"accept": "application/json"})
    assert response.status_code == 400 and "period" in response.text


async def test_weights_not_summing_to_100_are_refused_with_the_sum(client, oem) -> None:
    await login_page_session(client, oem.emails["oem_analyst"])
    token = client.cookies.get("dh_csrf")
    analyst = await client.post("/hq/scoring/settings",
                                data={"weight.csat": "10", "_csrf_token": token})
    assert analyst.status_code == 403
    await login_page_session(client, oem.emails["oem_admin"])
    token = client.cookies.get("dh_csrf")
    refused = await client.post("/hq/scoring/settings",
                                data={"weight.csat": "30", "_csrf_token": token})
    assert refused.status_code == 400 and "120" in refused.text
    bad = await client.post("/hq/scoring/settings",
                            data={"target.csat": "high", "_csrf_token": token})
    assert bad.status_code == 400 and "target.csat" in bad.text
    try:
        saved = await client.post(
            "/hq/scoring/settings",
            data={"weight.csat": "14", "weight.nps": "2", "_csrf_token": token},
            follow_redirects=False)
        assert saved.status_code == 303
        assert (await service.current_settings())["csat"].weight == 14
    finally:
        await ScoringSetting.delete(force=True)


async def test_scorecard_records_list_the_dealers_own_events(client, dealer_a, dealer_b) -> None:
    from tests.platform.scoring.helpers import at, feed

    customer = str(uuid.uuid4())
    for dealer, ro_type in ((dealer_a, "rework"), (dealer_b, "maintenance")):
        await feed(dealer.id, "repair_order.closed", repair_order_id=str(uuid.uuid4()),
                   customer_id=customer, closed_at=at(2030, 3, 10), ro_type=ro_type,
                   total_amount=100.0, previous_closed_at=None)
    await login_page_session(client, dealer_a.emails["cs_agent"])
    page = await client.get("/scorecard/records?metric=rework_rate&grain=month&period=2030-03-01")
    assert page.status_code == 200
    assert page.text.count("repair_order.closed") == 1  # dealer B's event is not there
    assert f"/customers/{customer}" in page.text
    missing = await client.get("/scorecard/records?metric=nope",
                               headers={"accept": "application/json"})
    assert missing.status_code == 404
