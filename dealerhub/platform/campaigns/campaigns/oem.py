"""OEM national campaigns: authored once at headquarters, executed inside each
participating dealer on that dealer's own data (a segment and a campaign per dealer,
created in the dealer's tenant scope). Headquarters reads only the per-dealer counts in
`oem_campaign_result`, never a recipient or a customer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from dealerhub.platform import db
from dealerhub.platform.campaigns.campaigns import service as campaigns
from dealerhub.platform.campaigns.campaigns.schemas import (
    CampaignCreate,
    OemCampaignCreate,
    OemCampaignRead,
    OemDealerResult,
)
from dealerhub.platform.campaigns.campaigns.tables import Campaign, OemCampaign, OemCampaignResult
from dealerhub.platform.campaigns.segments import service as segments
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope, transaction
from dealerhub.tenants.fields import FieldError, InvalidInput

REFRESH_DAYS = 120
COUNTS = ("recipients", "held_out", "contacted", "replied", "booked", "visited")


async def _check(data: OemCampaignCreate, now: datetime) -> list[uuid.UUID]:
    segments.validate(data.definition)
    if data.starts_at.tzinfo is None or data.starts_at < now - campaigns.PAST_TOLERANCE:
        raise InvalidInput([FieldError("starts_at", "the schedule is in the past")])
    if not data.texts:
        raise InvalidInput([FieldError("texts", "give at least one text (zh-CN or en)")])
    async with transaction(write=False):
        found = {row["id"] for row in await Dealer.select(Dealer.id).where(
            Dealer.id.is_in(data.dealer_ids) & (Dealer.status == "active"))}
    unknown = [str(d) for d in data.dealer_ids if d not in found]
    if unknown:
        raise InvalidInput([FieldError("dealer_ids", f"no active dealer {', '.join(unknown)}")])
    return list(dict.fromkeys(data.dealer_ids))


async def create_oem_campaign(data: OemCampaignCreate, now: datetime | None = None
                              ) -> OemCampaign:
    """Record the national campaign and start it inside every participating dealer; a dealer
    with nobody consent-eligible takes part with zero recipients."""
    now = now or datetime.now(UTC)
    dealer_ids = await _check(data, now)
    texts = {variant: msgspec.to_builtins(text) for variant, text in data.texts.items()}
    row = OemCampaign(name=data.name.strip(), definition=msgspec.to_builtins(data.definition),
                      texts=texts, hold_out_percent=data.hold_out_percent,
                      starts_at=data.starts_at.astimezone(UTC),
                      dealer_ids=[str(d) for d in dealer_ids], created_at=now)
    async with transaction():
        await OemCampaign.insert(row)
        await OemCampaignResult.insert(*[OemCampaignResult(oem_campaign_id=row.id,
                                                           dealer_id=dealer_id)
                                         for dealer_id in dealer_ids])
    for dealer_id in dealer_ids:
        segment = await segments.save_segment(dealer_id, f"{row.name} (OEM)", data.definition)
        try:
            await campaigns.create_campaign(dealer_id, CampaignCreate(
                name=row.name, texts=data.texts, starts_at=data.starts_at,
                segment_id=segment.id, hold_out_percent=data.hold_out_percent), now=now,
                oem_campaign_id=row.id)
        except InvalidInput as refused:
            if not any("consent" in error.reason for error in refused.errors):
                raise
    await refresh_results(row.id)
    return row


async def _dealer_counts(dealer_id: uuid.UUID, oem_campaign_id: uuid.UUID) -> dict[str, Any]:
    """One dealer's aggregate for the national campaign, computed in its own scope."""
    async with tenant_scope(dealer_id, write=False):
        campaign = await Campaign.objects_in_tenant().where(
            Campaign.oem_campaign_id == oem_campaign_id).first()
    if campaign is None:
        return {name: 0 for name in COUNTS} | {"revenue": Decimal(0)}
    found = await campaigns.results(dealer_id, campaign.id)
    assert found is not None
    treatment, hold_out = found.treatment, found.hold_out
    return {"recipients": treatment.recipients + hold_out.recipients,
            "held_out": hold_out.recipients, "contacted": treatment.contacted,
            "replied": treatment.replied, "booked": treatment.booked,
            "visited": treatment.visited, "revenue": treatment.revenue}


async def refresh_results(oem_campaign_id: uuid.UUID) -> None:
    async with transaction(write=False):
        rows = await OemCampaignResult.select(OemCampaignResult.dealer_id).where(
            OemCampaignResult.oem_campaign_id == oem_campaign_id)
    for row in rows:
        counts = await _dealer_counts(row["dealer_id"], oem_campaign_id)
        async with transaction():
            await OemCampaignResult.update({
                **{getattr(OemCampaignResult, k): v for k, v in counts.items()},
                OemCampaignResult.updated_at: datetime.now(UTC)}).where(
                (OemCampaignResult.oem_campaign_id == oem_campaign_id)
                & (OemCampaignResult.dealer_id == row["dealer_id"]))


async def refresh_recent(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    async with transaction(write=False):
        rows = await OemCampaign.select(OemCampaign.id).where(
            OemCampaign.starts_at >= now - timedelta(days=REFRESH_DAYS))
    for row in rows:
        await refresh_results(row["id"])
    return len(rows)


async def get_oem_campaign(oem_campaign_id: uuid.UUID) -> OemCampaignRead | None:
    """What headquarters sees: the campaign and per-dealer counts, nothing more."""
    async with transaction(write=False):
        row = await OemCampaign.objects().where(OemCampaign.id == oem_campaign_id).first()
        if row is None:
            return None
        results = await OemCampaignResult.select(
            OemCampaignResult.dealer_id, *(getattr(OemCampaignResult, k) for k in COUNTS),
            OemCampaignResult.revenue).where(
            OemCampaignResult.oem_campaign_id == oem_campaign_id).order_by(
            OemCampaignResult.dealer_id)
    dealers = [OemDealerResult(**r) for r in results]
    totals: dict[str, Any] = {k: sum(getattr(d, k) for d in dealers) for k in COUNTS}
    totals["revenue"] = sum((d.revenue for d in dealers), Decimal(0))
    return OemCampaignRead(row.id, row.name, row.starts_at, len(dealers), totals, dealers)


async def list_oem_campaigns(page: int = 1, per_page: int = 25) -> tuple[list[OemCampaign], int]:
    async with transaction(write=False):
        rows = await db.paged(OemCampaign.objects().order_by(OemCampaign.created_at,
                                                             ascending=False), page, per_page)
        return list(rows), await OemCampaign.count()
