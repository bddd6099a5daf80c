"""Headquarters benchmark dashboard and a dealer scorecard in Chromium: the charts draw
(no CSP or script errors) and the dealer's page names no other dealer."""

from __future__ import annotations

import random
from datetime import date

import pytest

from dealerhub.platform.scoring import service
from dealerhub.platform.tables import Dealer
from tests.conftest import PASSWORD
from tests.e2e.browser import ARTIFACTS, browser_page, served_app, sign_in
from tests.platform.scoring.test_benchmarks import put

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_hq_dashboard_and_dealer_scorecard(dealer_factory, oem) -> None:
    month = date(random.randint(3000, 9000), random.randint(1, 12), 1)
    dealers = [await dealer_factory() for _ in range(6)]
    for index, dealer in enumerate(dealers):
        for key, base in (("csat", 70), ("nps", 20), ("rework_rate", 1), ("contact_48h", 60)):
            await put(dealer.id, key, month, base + 4 * index, 100)
    await service.refresh_benchmarks("month", month)
    names = {row["id"]: row["name"] for row in await Dealer.select(Dealer.id, Dealer.name)}
    me = dealers[1]
    errors: list[str] = []
    with served_app() as base:
        async with browser_page(width=1360, height=1000) as page:
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            await sign_in(page, base, oem.emails["oem_analyst"], PASSWORD)
            await page.goto(f"{base}/hq/scoring?grain=month&period={month}")
            await page.wait_for_load_state("networkidle")
            assert await page.inner_text("h1") == "全国对标"
            league = await page.inner_text("table.league")
            assert all(names[d.id] in league for d in dealers)
            await page.wait_for_function(
                "document.getElementById('distribution-chart').width > 0")
            await page.screenshot(path=str(ARTIFACTS / "hq-benchmarks-zh.png"), full_page=True)
            await page.click(f"text={names[dealers[0].id]}")
            await page.wait_for_load_state("networkidle")
            assert names[dealers[0].id] in await page.inner_text("h1")
            await page.screenshot(path=str(ARTIFACTS / "hq-dealer-drill-zh.png"), full_page=True)
            await page.click("button:has-text('退出')")
            await page.wait_for_load_state("networkidle")

            await sign_in(page, base, me.emails["dealer_admin"], PASSWORD)
            await page.goto(f"{base}/scorecard?grain=month&period={month}")
            await page.wait_for_load_state("networkidle")
            body = await page.inner_text("body")
            assert names[me.id] in body
            others = [name for dealer_id, name in names.items()
                      if dealer_id != me.id and name in body]
            assert not others, others
            html = await page.content()
            assert not [n for i, n in names.items() if i != me.id and n in html]
            assert "Q" in await page.inner_text("table.scoring-lines")
            await page.wait_for_function(
                "document.getElementById('distribution-chart').width > 0")
            await page.screenshot(path=str(ARTIFACTS / "dealer-scorecard-zh.png"), full_page=True)
    assert not errors, errors
