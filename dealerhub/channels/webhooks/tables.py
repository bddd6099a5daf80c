"""Third-party webhooks: endpoints a dealer registered, each delivery of an event to one,
every attempt, and inbound sources with the payloads they sent.

The OEM registers endpoints too: the same columns in platform tables (no dealer owns them),
each delivery naming the dealer whose event it carries."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Boolean, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class _EndpointColumns:
    url = Varchar(length=2000)
    description = Varchar(length=200, default="")
    event_types = JSONB(default=[])
    secret = Text()  # Fernet token of the whsec_ secret
    enabled = Boolean(default=True)
    disabled_reason = Varchar(length=300, default="")
    disabled_at = Timestamptz(null=True, default=None)
    failing_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEndpoint(_EndpointColumns, TenantTable, tablename="webhook_endpoint"):
    pass


class OemWebhookEndpoint(_EndpointColumns, PlatformTable, tablename="oem_webhook_endpoint"):
    pass


class _DeliveryColumns:
    endpoint_id = UUID()
    event_id = UUID()
    event_type = Varchar(length=64)
    payload = JSONB(default={})
    status = Varchar(length=16, default="pending")  # pending | succeeded | failed
    attempts = SmallInt(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    last_status_code = SmallInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class WebhookDelivery(_DeliveryColumns, TenantTable, tablename="webhook_delivery"):
    pass


class OemWebhookDelivery(_DeliveryColumns, PlatformTable, tablename="oem_webhook_delivery"):
    dealer_id = UUID(null=True, default=None)  # whose event; None for a platform event


class _AttemptColumns:
    delivery_id = UUID()
    endpoint_id = UUID()
    at = Timestamptz(default=TimestamptzNow())
    status_code = SmallInt(null=True, default=None)
    latency_ms = Integer(default=0)
    response_excerpt = Varchar(length=500, default="")
    error = Varchar(length=300, default="")


class WebhookAttempt(_AttemptColumns, TenantTable, tablename="webhook_attempt"):
    pass


class OemWebhookAttempt(_AttemptColumns, PlatformTable, tablename="oem_webhook_attempt"):
    pass


class WebhookQueue(PlatformTable, tablename="webhook_queue"):
    """Due deliveries across dealers (ids only), claimed by the scheduler; `oem` marks a
    delivery to an OEM endpoint (its tenant_id is the dealer whose event it carries)."""

    tenant_id = UUID()
    oem = Boolean(default=False)
    delivery_id = UUID()
    due_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None)


class InboundSource(TenantTable, tablename="webhook_inbound_source"):
    name = Varchar(length=100)
    kind = Varchar(length=32)  # "call_outcome" | "repair_order" | "other"
    secret = Text()
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class InboundReceipt(TenantTable, tablename="webhook_inbound_receipt"):
    source_id = UUID()
    webhook_id = Varchar(length=200)
    event_type = Varchar(length=100)
    payload = JSONB(default={})
    received_at = Timestamptz(default=TimestamptzNow())
