"""Surveys and complaints appear on the customer 360 timeline."""

from __future__ import annotations

import pytest

from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.complaints import service as complaints
from dealerhub.tenants.customers.timeline import timeline
from tests.survey.conftest import sent_invitation

pytestmark = pytest.mark.anyio


async def test_surveys_and_complaints_on_the_timeline(dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    async with tenant_scope(dealer_a.id):
        await complaints.open_complaint(row.customer_id, "服务太慢", source="call")
    kinds = {entry.kind: entry for entry in await timeline(dealer_a.id, row.customer_id)}
    assert kinds["survey"].status == "sent"
    assert kinds["complaint"].detail == "服务太慢"
