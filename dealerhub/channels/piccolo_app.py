"""The channels component's Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.channels.credentials.tables import ChannelAccount
from dealerhub.channels.messages.tables import ChannelOutbox, Message, MessageStatusChange
from dealerhub.channels.webhooks.tables import (
    InboundReceipt,
    InboundSource,
    OemWebhookAttempt,
    OemWebhookDelivery,
    OemWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookQueue,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="channels",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[ChannelAccount, Message, MessageStatusChange, ChannelOutbox, WebhookEndpoint,
                   WebhookDelivery, WebhookAttempt, WebhookQueue, InboundSource, InboundReceipt,
                   OemWebhookEndpoint, OemWebhookDelivery, OemWebhookAttempt],
    migration_dependencies=["dealerhub.tenants.piccolo_app"],
    commands=[],
)
