"""The campaigns Piccolo app: due lists, segments, dealer and OEM campaigns."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.platform.campaigns.campaigns.tables import (
    Campaign,
    CampaignRecipient,
    OemCampaign,
    OemCampaignResult,
)
from dealerhub.platform.campaigns.due_lists.tables import DueListEntry, DueListRun, DueListSettings
from dealerhub.platform.campaigns.segments.tables import Segment

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="campaigns",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[DueListEntry, DueListSettings, DueListRun, Segment, Campaign,
                   CampaignRecipient, OemCampaign, OemCampaignResult],
    migration_dependencies=["dealerhub.tenants.piccolo_app", "dealerhub.channels.piccolo_app"],
    commands=[],
)
