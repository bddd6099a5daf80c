"""A car owner books, reschedules and cancels through the self-service link in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dealerhub.platform.appointments import service
from tests.conftest import ROOT
from tests.platform.appointments.conftest import build_shop, future_day

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


async def test_self_service_book_reschedule_cancel(database, live_server) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    shop = await build_shop()
    day, later = future_day(3), future_day(4)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = await browser.new_context(locale="en-US", java_script_enabled=False,
                                            viewport={"width": 390, "height": 844})
        page = await context.new_page()

        await page.goto(live_server + service.book_path(shop.tenant_id, shop.vehicle_id))
        await page.check("input[name=job_codes][value=OIL]")
        await page.fill("input[name=day]", day.isoformat())
        await page.click("text=Show times")
        await page.click(".slots label >> nth=2")
        await page.screenshot(path=str(ARTIFACTS / "appointments-1-book.png"), full_page=True)
        await page.click("button:has-text('Book')")
        await page.wait_for_selector("text=Not confirmed yet")
        assert "09:00" in await page.inner_text("h1") or "08:30" in await page.inner_text("h1")
        manage_url = page.url
        await page.screenshot(path=str(ARTIFACTS / "appointments-2-booked.png"), full_page=True)

        await page.click("text=Reschedule")
        await page.fill("input[name=day]", later.isoformat())
        await page.click("text=Show times")
        await page.click(".slots label:has-text('14:00')")
        await page.click("text=Move my appointment")
        await page.wait_for_selector("text=Your appointment has been moved.")
        assert f"{later.isoformat()} 14:00" in await page.inner_text("h1")
        await page.screenshot(path=str(ARTIFACTS / "appointments-3-rescheduled.png"),
                              full_page=True)

        await page.click("button:has-text('Cancel appointment')")
        await page.wait_for_selector("text=Your appointment is cancelled.")
        await page.screenshot(path=str(ARTIFACTS / "appointments-4-cancelled.png"),
                              full_page=True)

        chinese = await browser.new_context(locale="zh-CN", viewport={"width": 390,
                                                                      "height": 844})
        zh_page = await chinese.new_page()
        await zh_page.goto(manage_url)
        assert "已取消" in await zh_page.inner_text("main")
        await zh_page.screenshot(path=str(ARTIFACTS / "appointments-5-zh.png"), full_page=True)
        await browser.close()

    rows = await service.list_appointments(shop.tenant_id, shop.local(day, 0),
                                           shop.local(later, 0) + timedelta(days=1))
    assert [(r.status, r.channel, r.reschedule_count) for r in rows] == [
        ("cancelled", "self_service", 1)]
