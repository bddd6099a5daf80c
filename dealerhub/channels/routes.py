"""Every controller of the channels component, its templates folder and its navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dealerhub.channels.credentials.routes import ChannelSettingsController
from dealerhub.channels.messages.routes import (
    ChannelCallbackController,
    MessageApiController,
    UnsubscribeController,
)
from dealerhub.channels.pages import (
    ChannelPagesController,
    OemWebhookPagesController,
    WebhookPagesController,
)
from dealerhub.channels.webhooks.routes import (
    InboundWebhookController,
    OemWebhookApiController,
    WebhookApiController,
)
from dealerhub.platform.web import register_nav, template_directories

template_directories(Path(__file__).parent / "templates")
register_nav("dealer", "/messages", "Messages", {"dealer_admin", "service_advisor", "cs_agent"},
             order=60)
register_nav("dealer", "/channels", "Channels", {"dealer_admin"}, order=80)
register_nav("dealer", "/webhooks", "Webhooks", {"dealer_admin"}, order=85)
register_nav("hq", "/hq/webhooks", "Webhooks", {"oem_admin"}, order=90)

CHANNEL_ROUTES: list[Any] = [
    ChannelSettingsController, MessageApiController, ChannelCallbackController,
    UnsubscribeController, WebhookApiController, InboundWebhookController, ChannelPagesController,
    WebhookPagesController, OemWebhookApiController, OemWebhookPagesController,
]
