"""A dealer user and an OEM user sign in through Chromium and see their dashboards."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.browser import ARTIFACTS, browser_page, served_app, sign_in

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_dealer_and_oem_sign_in_and_see_their_dashboards(dealer_a, oem) -> None:
    with served_app() as base:
        async with browser_page() as page:
            await sign_in(page, base, dealer_a.emails["dealer_admin"], PASSWORD)
            assert page.url == f"{base}/"
            assert await page.inner_text("h1") == "工作台"
            assert dealer_a.code in await page.inner_text("main")
            assert "经销商门户" in await page.inner_text("header")
            await page.screenshot(path=str(ARTIFACTS / "dealer-dashboard-zh.png"), full_page=True)

            await page.click("text=English")
            await page.wait_for_load_state("networkidle")
            assert await page.inner_text("h1") == "Dashboard"
            await page.screenshot(path=str(ARTIFACTS / "dealer-dashboard-en.png"), full_page=True)

            await page.click("button:has-text('Sign out')")
            await page.wait_for_load_state("networkidle")
            assert "/login" in page.url

            await sign_in(page, base, oem.emails["oem_analyst"], PASSWORD)
            assert page.url == f"{base}/hq"
            assert "OEM console" in await page.inner_text("header")
            assert dealer_a.code not in await page.inner_text("body")
            await page.screenshot(path=str(ARTIFACTS / "oem-dashboard-en.png"), full_page=True)


async def test_wrong_password_shows_an_error(dealer_a) -> None:
    with served_app() as base:
        async with browser_page(width=390, height=800) as page:
            await sign_in(page, base, dealer_a.emails["cs_agent"], "not-the-password-1")
            assert "邮箱或密码错误" in await page.inner_text("[role=alert]")
            await page.screenshot(path=str(ARTIFACTS / "login-error-phone.png"))
