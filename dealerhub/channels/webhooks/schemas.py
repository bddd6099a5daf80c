"""Webhook endpoints, deliveries, attempts and inbound sources as the API sees them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from dealerhub.channels.jsonb import loaded
from dealerhub.channels.webhooks.tables import (
    InboundSource,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from dealerhub.platform.config import get_settings
from dealerhub.platform.web.api import StrictStruct


class EndpointCreate(StrictStruct):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    event_types: list[str]
    description: Annotated[str, msgspec.Meta(max_length=200)] = ""


class EndpointUpdate(StrictStruct):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    event_types: list[str] | None = None
    enabled: bool | None = None


class EndpointRead(msgspec.Struct):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str


class DeliveryRead(msgspec.Struct):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    finished_at: datetime | None


class AttemptRead(msgspec.Struct):
    at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str


class SourceCreate(StrictStruct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: str


class SourceRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    enabled: bool
    inbound_url: str
    created_at: datetime


class SourceCreated(SourceRead):
    secret: str


class InboundAccepted(msgspec.Struct):
    receipt_id: uuid.UUID
    duplicate: bool


def endpoint_read(row: WebhookEndpoint) -> EndpointRead:
    return EndpointRead(row.id, row.url, row.description, list(loaded(row.event_types, [])),
                        row.enabled, row.disabled_reason, row.disabled_at, row.failing_since,
                        row.created_at)


def delivery_read(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(row.id, row.endpoint_id, row.event_id, row.event_type, row.status,
                        row.attempts, row.next_attempt_at, row.last_status_code, row.created_at,
                        row.finished_at)


def attempt_read(row: WebhookAttempt) -> AttemptRead:
    return AttemptRead(row.at, row.status_code, row.latency_ms, row.response_excerpt, row.error)


def inbound_url(row: InboundSource) -> str:
    return f"{get_settings().public_base_url}/hooks/in/{row.tenant_id}/{row.id}"


def source_read(row: InboundSource) -> SourceRead:
    return SourceRead(row.id, row.name, row.kind, row.enabled, inbound_url(row), row.created_at)
