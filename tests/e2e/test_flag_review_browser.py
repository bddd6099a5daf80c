"""Headquarters clears a flagged response in the console; the dealer sees the decision on
its results page and the answer counted."""

from __future__ import annotations

import pytest

from dealerhub.survey.seed import seed_bank
from tests.conftest import PASSWORD
from tests.e2e.browser import ARTIFACTS, browser_page, served_app, sign_in
from tests.survey.test_flag_review import NAME, WORDS, _flagged

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_hq_clears_a_flagged_response(dealer_a, oem) -> None:
    await seed_bank()
    flagged = await _flagged(dealer_a)
    with served_app() as base:
        async with browser_page() as page:
            await sign_in(page, base, oem.emails["oem_analyst"], PASSWORD)
            await page.click("aside.sidenav a[href='/hq/survey/flags']")
            await page.select_option("select[name=dealer]", str(dealer_a.id))
            await page.click("form.toolbar button[type=submit]")
            await page.wait_for_load_state("networkidle")
            row = page.locator(f"#review-{flagged.review_id}")
            text = await row.inner_text()
            assert WORDS in text and "疑似索要好评" in text and "待审核" in text
            assert NAME not in await page.inner_text("main")
            await page.screenshot(path=str(ARTIFACTS / "hq-flag-queue.png"), full_page=True)
            await row.locator("textarea[name=note]").fill("已电话核实，为真实评价")
            await row.locator("button[value=clear]").click()
            await page.wait_for_load_state("networkidle")
            cleared = await page.locator(f"#review-{flagged.review_id}").inner_text()
            assert "已澄清：计入" in cleared and "已电话核实" in cleared
            await page.screenshot(path=str(ARTIFACTS / "hq-flag-cleared.png"), full_page=True)

        async with browser_page() as page:
            await sign_in(page, base, dealer_a.emails["dealer_admin"], PASSWORD)
            await page.goto(f"{base}/survey/results")
            assert "已澄清：计入" in await page.inner_text("#flagged-responses")
            assert "100.0%" in await page.inner_text(".tiles")
            await page.screenshot(path=str(ARTIFACTS / "dealer-flag-state.png"), full_page=True)
