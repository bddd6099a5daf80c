"""Demo data: today's due lists and one example campaign for every demo dealer;
registered in `dealerhub.demo.SEED_HOOKS`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dealerhub.platform.campaigns.campaigns import service as campaigns
from dealerhub.platform.campaigns.campaigns.schemas import CampaignCreate, MessageText
from dealerhub.platform.campaigns.due_lists import service as due_lists
from dealerhub.platform.campaigns.segments import service as segments
from dealerhub.platform.tables import Dealer
from dealerhub.tenants.fields import InvalidInput

TEXTS = {
    "zh-CN": MessageText(
        "{{ customer_name }}您好，本月到店保养享工时八折，点击预约：{{ booking_url }}"),
    "zh-CN:value": MessageText(
        "{{ customer_name }}您好，本月保养套餐立减 200 元：{{ booking_url }}"),
    "en": MessageText("Hello {{ customer_name }}, 20% off labour this month: {{ booking_url }}"),
}


async def seed_demo(rng: random.Random, dealers: Sequence[Dealer],
                    customers_per_dealer: int) -> None:
    """Runs after the customer base is seeded."""
    starts_at = datetime.now(UTC) + timedelta(days=1)
    for dealer in dealers:
        await due_lists.generate_due_lists(dealer.id)
        segment = await segments.save_segment(dealer.id, "有营销授权的车主", {"rules": [
            {"field": "consent", "op": "in", "values": ["marketing"]}]})
        try:
            await campaigns.create_campaign(dealer.id, CampaignCreate(
                name="本月保养关怀", texts=TEXTS, starts_at=starts_at, segment_id=segment.id,
                hold_out_percent=10))
        except InvalidInput:
            continue  # nobody at this dealer consented to marketing
