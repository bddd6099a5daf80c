"""Campaign targeting over HTTP: every controller, the templates folder, the navigation."""

from __future__ import annotations

from pathlib import Path

from dealerhub.platform.auth import CurrentUser
from dealerhub.platform.campaigns import tasks as _tasks  # noqa: F401 - consumers, periodic jobs
from dealerhub.platform.campaigns.campaigns.oem_routes import (
    OemCampaignApiController,
    OemCampaignPagesController,
)
from dealerhub.platform.campaigns.campaigns.routes import (
    CampaignApiController,
    CampaignPagesController,
)
from dealerhub.platform.campaigns.due_lists import service as due_lists
from dealerhub.platform.campaigns.due_lists.routes import (
    DueListApiController,
    DueListPagesController,
)
from dealerhub.platform.campaigns.exports.routes import ExportPagesController
from dealerhub.platform.campaigns.segments.routes import (
    SegmentApiController,
    SegmentPagesController,
)
from dealerhub.platform.web import register_nav, register_tile

TEMPLATES = Path(__file__).parent / "templates"
CAMPAIGN_ROUTES = [DueListApiController, DueListPagesController, SegmentApiController,
                   SegmentPagesController, CampaignApiController, CampaignPagesController,
                   OemCampaignApiController, OemCampaignPagesController,
                   ExportPagesController]
STAFF = {"dealer_admin", "service_advisor", "cs_agent"}

register_nav("dealer", "/due-lists", "Today's due list", STAFF, order=30)
register_nav("dealer", "/campaigns", "Campaigns", STAFF, order=31)
register_nav("dealer", "/campaigns/segments", "Segments", STAFF, order=32)
register_nav("dealer", "/due-lists/export", "Month-end export", STAFF, order=33)
register_nav("hq", "/hq/campaigns", "National campaigns", {"oem_admin", "oem_analyst"}, order=30)


async def _due_today(user: CurrentUser) -> int:
    found = await due_lists.todays_list(user.tenant_id, per_page=1)  # type: ignore[arg-type]
    return found.total


register_tile("dealer", "/due-lists", "Due today", STAFF, _due_today, order=30)
