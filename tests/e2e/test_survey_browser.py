"""A car owner answers a survey on a phone-sized screen; the negative answer shows up in
the dealer portal at once as an alert and a complaint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.seed import seed_bank
from dealerhub.survey.triggers import service as triggers
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.conftest import PASSWORD
from tests.e2e.browser import ARTIFACTS, browser_page, served_app, sign_in
from tests.tenants.factories import new_customer

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
WORDS = "等了两个小时也没人告诉我进度"


async def test_phone_survey_answer_becomes_an_alert_and_a_complaint(dealer_a) -> None:
    await seed_bank()
    await create_staff(dealer_a.id, StaffCreate(name="服务经理", kind="service_manager",
                                                user_id=dealer_a.users["dealer_admin"]))
    customer = await new_customer(dealer_a.id, name="李娜")
    now = datetime.now(UTC)
    async with tenant_scope(dealer_a.id):
        invitation = await triggers.create_direct(
            customer.id, "quick", ["overall.csat", "care.updates", "overall.comment"], now)
        assert await triggers.send_invitation(invitation, now) == "sent"
    path = f"/c/survey/{triggers.survey_token(dealer_a.id, invitation.id)}"
    with served_app() as base:
        async with browser_page(width=390, height=844) as page:
            await page.goto(f"{base}{path}")
            assert "总体而言，您对本次服务满意吗？" in await page.inner_text("main")
            await page.screenshot(path=str(ARTIFACTS / "survey-phone-zh.png"), full_page=True)
            await page.check("input[name='q_overall.csat'][value='1']")
            await page.check("input[name='q_care.updates'][value='2']")
            await page.fill("textarea[name='q_overall.comment']", WORDS)
            await page.click("button[type=submit]")
            await page.wait_for_load_state("networkidle")
            assert "谢谢" in await page.inner_text("h1")
            await page.screenshot(path=str(ARTIFACTS / "survey-phone-thanks.png"), full_page=True)

        async with browser_page() as page:
            await sign_in(page, base, dealer_a.emails["dealer_admin"], PASSWORD)
            assert "未读评价提醒" in await page.inner_text("main")
            await page.goto(f"{base}/complaints")
            alerts = await page.inner_text("#alerts")
            assert "差评" in alerts and WORDS[:10] in alerts
            assert WORDS[:10] in await page.inner_text("table.data")
            await page.screenshot(path=str(ARTIFACTS / "survey-complaint-board.png"),
                                  full_page=True)
            await page.click(f"table.data a:has-text('{WORDS[:10]}')")
            await page.wait_for_load_state("networkidle")
            assert WORDS in await page.inner_text("#verbatim")
            await page.screenshot(path=str(ARTIFACTS / "survey-complaint.png"), full_page=True)
