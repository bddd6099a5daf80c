"""Third-party webhooks.

Outbound: a dealer registers endpoints and picks event types; every domain event of that
dealer fans out to the matching endpoints (the "*" events consumer). Each delivery is signed
per Standard Webhooks, retried with exponential back-off for about 27 hours (Retry-After is
honoured on 429/503), every attempt is logged, 410 disables the endpoint at once and 5 days
of failure disable it with a notice to the dealer admins. Deliveries can be replayed.

The OEM registers endpoints too (`tenant_id=None` in the functions below): they receive the
events of every dealer they subscribe to, each naming its dealer, with the personal
references left out (the OEM never sees a dealer's customers), and share the signing,
retry, disable and replay machinery; their disable notice is the console's endpoint page.

Inbound: a dealer registers sources (a call centre, a DMS); their requests are verified the
same way and recorded once per webhook-id, then announced as an `inbound.<type>` event.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import WebhookVerificationError

from dealerhub.channels.credentials import crypto
from dealerhub.channels.jsonb import loaded
from dealerhub.channels.messages.templates import TemplateText, register_template
from dealerhub.channels.webhooks import http
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
from dealerhub.platform import db, events
from dealerhub.platform.directory import dealer_admins
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope, transaction

log = logging.getLogger(__name__)
# Seconds to wait after each failed attempt: 5 s … 10 h, about 27.6 hours in all.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DISABLE_AFTER = timedelta(days=5)
MAX_RETRY_AFTER = 24 * 3600
INBOUND_KINDS = ("call_outcome", "repair_order", "other")
EVENT_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*)$")
DISABLED_TEMPLATE = "channels.webhook_endpoint_disabled"
register_template(DISABLED_TEMPLATE, "service", {
    "zh-CN": TemplateText("Webhook 端点已停用",
                          "您的 Webhook 端点 {{ url }} 已被停用：{{ reason }}。"
                          "请在门户中检查后重新启用。"),
    "en": TemplateText("Webhook endpoint disabled", "Your webhook endpoint {{ url }} was "
                       "disabled: {{ reason }}. Check it and re-enable it in the portal."),
})


class WebhookInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InboundRejected(Exception):
    """Unsigned, wrongly signed or stale: answered 401, nothing recorded."""


@dataclass(frozen=True)
class CreatedWithSecret:
    row: Any
    secret: str


# Keys of an event's payload the OEM's endpoints never receive: references to a dealer's
# customers and their vehicles, and anything that may carry their words or contact details.
PERSONAL_KEY = re.compile(r"customer|vehicle|phone|email|name|address|text|verbatim|note|related")


@dataclass(frozen=True)
class Store:
    """Where one side's endpoints, deliveries and attempts live: the dealer's own tables
    (tenant scope, row-level security) or the OEM's platform tables."""

    endpoint: Any
    delivery: Any
    attempt: Any
    oem: bool

    def scope(self, tenant_id: uuid.UUID | str | None, *, write: bool = True) -> Any:
        if self.oem:
            return transaction(write=write)
        return tenant_scope(tenant_id, write=write)  # type: ignore[arg-type]

    def objects(self, table: Any) -> Any:
        return table.objects() if self.oem else table.objects_in_tenant()

    async def get(self, table: Any, row_id: uuid.UUID | str) -> Any:
        return await self.objects(table).where(table.id == uuid.UUID(str(row_id))).first()

    async def insert(self, row: Any) -> Any:
        table = type(row)
        await (table.insert(row) if self.oem else table.insert_in_tenant(row))
        return row

    async def update(self, table: Any, values: dict[Any, Any], row_id: uuid.UUID) -> None:
        query = table.update(values) if self.oem else table.update_in_tenant(values)
        await query.where(table.id == row_id)


DEALER_STORE = Store(WebhookEndpoint, WebhookDelivery, WebhookAttempt, oem=False)
OEM_STORE = Store(OemWebhookEndpoint, OemWebhookDelivery, OemWebhookAttempt, oem=True)


def store_for(tenant_id: uuid.UUID | str | None, oem: bool = False) -> Store:
    """The OEM's store when there is no dealer (or the queue row says so)."""
    return OEM_STORE if oem or tenant_id is None else DEALER_STORE


def _event_types(values: list[str]) -> list[str]:
    cleaned = sorted({value.strip() for value in values if value.strip()})
    if not cleaned:
        raise WebhookInvalid("event_types", "choose at least one event type (or *)")
    for value in cleaned:
        if not EVENT_TYPE.match(value) or len(value) > 64:
            raise WebhookInvalid("event_types", f"not an event type: {value!r}")
    return cleaned


async def _checked_url(url: str) -> str:
    url = url.strip()
    if len(url) > 2000:
        raise WebhookInvalid("url", "url is longer than 2000 characters")
    try:
        await http.check_url(url)
    except http.UnsafeUrl as error:
        raise WebhookInvalid("url", str(error)) from None
    return url


# --- endpoints ---------------------------------------------------------------------------

async def create_endpoint(tenant_id: uuid.UUID | None, url: str, event_types: list[str],
                          description: str = "") -> CreatedWithSecret:
    """A dealer's endpoint, or the OEM's when tenant_id is None."""
    checked, types = await _checked_url(url), _event_types(event_types)
    secret = http.new_secret()
    store = store_for(tenant_id)
    async with store.scope(tenant_id):
        row = await store.insert(store.endpoint(
            url=checked, event_types=types, description=description.strip()[:200],
            secret=crypto.encrypt({"secret": secret})))
    return CreatedWithSecret(row, secret)


async def list_endpoints(tenant_id: uuid.UUID | None) -> list[Any]:
    store = store_for(tenant_id)
    async with store.scope(tenant_id, write=False):
        return await store.objects(store.endpoint).order_by(store.endpoint.created_at)


async def get_endpoint(tenant_id: uuid.UUID | None, endpoint_id: uuid.UUID) -> Any | None:
    store = store_for(tenant_id)
    async with store.scope(tenant_id, write=False):
        return await store.get(store.endpoint, endpoint_id)


async def update_endpoint(tenant_id: uuid.UUID | None, endpoint_id: uuid.UUID, *,
                          url: str | None = None, event_types: list[str] | None = None,
                          enabled: bool | None = None) -> Any | None:
    """Re-enabling an endpoint forgets its failure streak."""
    store = store_for(tenant_id)
    table = store.endpoint
    values: dict[Any, Any] = {}
    if url is not None:
        values[table.url] = await _checked_url(url)
    if event_types is not None:
        values[table.event_types] = _event_types(event_types)
    if enabled is not None:
        values[table.enabled] = enabled
        if enabled:
            values.update({table.disabled_reason: "", table.disabled_at: None,
                           table.failing_since: None})
        else:
            values.update({table.disabled_reason: "disabled by its owner",
                           table.disabled_at: datetime.now(UTC)})
    async with store.scope(tenant_id):
        row = await store.get(table, endpoint_id)
        if row is None:
            return None
        if values:
            await store.update(table, values, row.id)
        return await store.get(table, endpoint_id)


async def list_deliveries(tenant_id: uuid.UUID | None, endpoint_id: uuid.UUID,
                          limit: int = 50) -> list[Any] | None:
    store = store_for(tenant_id)
    async with store.scope(tenant_id, write=False):
        if await store.get(store.endpoint, endpoint_id) is None:
            return None
        return await store.objects(store.delivery).where(
            store.delivery.endpoint_id == endpoint_id
        ).order_by(store.delivery.created_at, ascending=False).limit(limit)


async def list_attempts(tenant_id: uuid.UUID | None,
                        delivery_id: uuid.UUID) -> list[Any] | None:
    store = store_for(tenant_id)
    async with store.scope(tenant_id, write=False):
        if await store.get(store.delivery, delivery_id) is None:
            return None
        return await store.objects(store.attempt).where(
            store.attempt.delivery_id == delivery_id).order_by(store.attempt.at)


# --- fan-out and delivery ----------------------------------------------------------------

def envelope(event: events.Event) -> dict[str, Any]:
    return {"type": event.event_type, "timestamp": event.occurred_at.isoformat(),
            "data": event.payload}


def without_personal(value: Any) -> Any:
    """The payload as the OEM may see it: no key that refers to a customer or their words."""
    if isinstance(value, dict):
        return {key: without_personal(item) for key, item in value.items()
                if not PERSONAL_KEY.search(str(key).lower())}
    if isinstance(value, list):
        return [without_personal(item) for item in value]
    return value


def _subscribed(endpoint: Any, event_type: str) -> bool:
    subscribed = loaded(endpoint.event_types, [])
    return "*" in subscribed or event_type in subscribed


async def _enqueue(store: Store, event: events.Event, endpoint: Any, payload: dict[str, Any],
                   now: datetime, **extra: Any) -> None:
    delivery = await store.insert(store.delivery(
        endpoint_id=endpoint.id, event_id=event.id, event_type=event.event_type,
        payload=payload, next_attempt_at=now, **extra))
    await WebhookQueue.insert(WebhookQueue(tenant_id=event.tenant_id, delivery_id=delivery.id,
                                           due_at=now, oem=store.oem))


@events.batch_consumer("*", "channels.webhooks")
async def fan_out(batch: list[events.Event]) -> None:
    """Runs inside the events' tenant scope (one dealer's events): one delivery per
    subscribed endpoint, the dealer's and the OEM's; the endpoints are read once a batch."""
    tenant_id = batch[0].tenant_id
    if tenant_id is None:
        return
    now = datetime.now(UTC)
    dealer_endpoints = await WebhookEndpoint.objects_in_tenant().where(
        WebhookEndpoint.enabled == True)  # noqa: E712
    oem_endpoints = await OemWebhookEndpoint.objects().where(
        OemWebhookEndpoint.enabled == True)  # noqa: E712
    dealer = None
    if oem_endpoints:
        dealer = await Dealer.select(Dealer.code).where(Dealer.id == tenant_id).first()
    for event in batch:
        for endpoint in dealer_endpoints:
            if _subscribed(endpoint, event.event_type):
                await _enqueue(DEALER_STORE, event, endpoint, envelope(event), now)
        subscribed = [endpoint for endpoint in oem_endpoints
                      if _subscribed(endpoint, event.event_type)]
        if subscribed:
            payload = {**envelope(event), "data": without_personal(event.payload),
                       "dealer": {"id": str(tenant_id), "code": dealer["code"] if dealer else ""}}
            for endpoint in subscribed:
                await _enqueue(OEM_STORE, event, endpoint, payload, now, dealer_id=tenant_id)


def next_delay(attempts: int, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after `attempts` failures, or None when exhausted."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    delay = float(RETRY_SCHEDULE[attempts - 1])
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


async def _notify_admins(endpoint: Any) -> None:
    """A dealer's admins hear by e-mail; the OEM's endpoint shows its reason on the console
    (the OEM has no dealer channel account to send from)."""
    from dealerhub.channels.messages.service import enqueue_staff_message

    if isinstance(endpoint, OemWebhookEndpoint):
        log.warning("OEM webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
        return
    for admin_id in await dealer_admins(endpoint.tenant_id):
        await enqueue_staff_message(endpoint.tenant_id, DISABLED_TEMPLATE, {
            "url": endpoint.url, "reason": endpoint.disabled_reason}, user_id=admin_id,
            media=("email",))


async def _disable(store: Store, endpoint: Any, reason: str, now: datetime) -> None:
    endpoint.disabled_reason = reason
    await store.update(store.endpoint, {
        store.endpoint.enabled: False, store.endpoint.disabled_reason: reason,
        store.endpoint.disabled_at: now}, endpoint.id)
    await _notify_admins(endpoint)


async def _dequeue(queue_id: uuid.UUID | str | None) -> None:
    """The queue row goes only when the attempt is recorded, so a killed worker loses nothing."""
    if queue_id is not None:
        await WebhookQueue.delete().where(WebhookQueue.id == uuid.UUID(str(queue_id)))


async def attempt_delivery(tenant_id: uuid.UUID | str, delivery_id: uuid.UUID | str,
                           queue_id: uuid.UUID | str | None = None, oem: bool = False) -> str:
    """One attempt; returns the delivery's status afterwards. `oem`: a delivery to one of
    the OEM's endpoints (tenant_id is then the dealer whose event it carries)."""
    store = store_for(tenant_id, oem)
    scope_id = None if oem else tenant_id
    async with store.scope(scope_id):
        delivery = await store.get(store.delivery, delivery_id)
        endpoint = await store.get(store.endpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None or delivery.status != "pending":
            await _dequeue(queue_id)
            return delivery.status if delivery else "missing"
        if not endpoint.enabled:
            await _dequeue(queue_id)
            await store.update(store.delivery, {store.delivery.status: "failed",
                                                store.delivery.finished_at: datetime.now(UTC)},
                               delivery.id)
            return "failed"
        secret = crypto.decrypt(endpoint.secret)["secret"]
    result = await http.signed_post(endpoint.url, secret, f"msg_{delivery.id.hex}",
                                    loaded(delivery.payload, {}))
    now = datetime.now(UTC)
    attempts = delivery.attempts + 1
    table = store.delivery
    async with store.scope(scope_id):
        await _dequeue(queue_id)
        await store.insert(store.attempt(
            delivery_id=delivery.id, endpoint_id=endpoint.id, at=now,
            status_code=result.status_code, latency_ms=result.latency_ms,
            response_excerpt=result.excerpt, error=result.error))
        values: dict[Any, Any] = {table.attempts: attempts,
                                  table.last_status_code: result.status_code}
        status = "pending"
        if result.ok:
            status = "succeeded"
            await store.update(store.endpoint, {store.endpoint.failing_since: None}, endpoint.id)
        elif result.status_code == 410:
            status = "failed"
            await _disable(store, endpoint, "the endpoint answered 410 Gone", now)
        else:
            failing_since = endpoint.failing_since or now
            if endpoint.failing_since is None:
                await store.update(store.endpoint, {store.endpoint.failing_since: now},
                                   endpoint.id)
            delay = next_delay(attempts, result.retry_after
                               if result.status_code in (429, 503) else None)
            if now - failing_since >= DISABLE_AFTER:
                status = "failed"
                await _disable(store, endpoint, "failing for 5 days", now)
            elif delay is None:
                status = "failed"
            else:
                due = now + timedelta(seconds=delay)
                values[table.next_attempt_at] = due
                await WebhookQueue.insert(WebhookQueue(tenant_id=tenant_id,
                                                       delivery_id=delivery.id, due_at=due,
                                                       oem=store.oem))
        values[table.status] = status
        if status != "pending":
            values[table.finished_at] = now
            values[table.next_attempt_at] = None
        await store.update(table, values, delivery.id)
    return status


async def replay(tenant_id: uuid.UUID | None, delivery_id: uuid.UUID) -> Any | None:
    """Send a delivery again now, whatever its state; the endpoint must be enabled."""
    store = store_for(tenant_id)
    async with store.scope(tenant_id):
        delivery = await store.get(store.delivery, delivery_id)
        if delivery is None:
            return None
        endpoint = await store.get(store.endpoint, delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            raise WebhookInvalid("endpoint", "the endpoint is disabled: enable it first")
        now = datetime.now(UTC)
        await store.update(store.delivery, {
            store.delivery.status: "pending", store.delivery.next_attempt_at: now,
            store.delivery.finished_at: None}, delivery.id)
        queue_tenant = delivery.dealer_id if store.oem else tenant_id
        await WebhookQueue.insert(WebhookQueue(tenant_id=queue_tenant, delivery_id=delivery.id,
                                               due_at=now, oem=store.oem))
        return await store.get(store.delivery, delivery_id)


async def dispatch_due(send: Any, now: datetime | None = None, limit: int = 500) -> int:
    now = now or datetime.now(UTC)
    async with transaction():
        query = WebhookQueue.select(WebhookQueue.id, WebhookQueue.tenant_id,
                                    WebhookQueue.delivery_id, WebhookQueue.oem).where(
            WebhookQueue.dispatched_at.is_null() & (WebhookQueue.due_at <= now)
        ).order_by(WebhookQueue.due_at).limit(limit)
        query = db.skip_locked(query)
        rows = await query
        for row in rows:
            send(str(row["tenant_id"]), str(row["delivery_id"]), str(row["id"]), bool(row["oem"]))
        if rows:
            await WebhookQueue.update({WebhookQueue.dispatched_at: now}).where(
                WebhookQueue.id.is_in([row["id"] for row in rows]))
    return len(rows)


async def sweep_stale(now: datetime | None = None, stale_after: float = 120) -> int:
    """Queue rows whose job never finished (a lost job, a killed worker) go out again."""
    now = now or datetime.now(UTC)
    async with transaction():
        rows = await WebhookQueue.select(WebhookQueue.id).where(
            WebhookQueue.dispatched_at < now - timedelta(seconds=stale_after))
        if rows:
            await WebhookQueue.update({WebhookQueue.dispatched_at: None}).where(
                WebhookQueue.id.is_in([row["id"] for row in rows]))
    return len(rows)


# --- inbound -----------------------------------------------------------------------------

async def create_source(tenant_id: uuid.UUID, name: str, kind: str) -> CreatedWithSecret:
    if not name.strip():
        raise WebhookInvalid("name", "name is required")
    if kind not in INBOUND_KINDS:
        raise WebhookInvalid("kind", f"kind must be one of {', '.join(INBOUND_KINDS)}")
    secret = http.new_secret()
    async with tenant_scope(tenant_id):
        (row,) = await InboundSource.insert_in_tenant(InboundSource(
            name=name.strip()[:100], kind=kind, secret=crypto.encrypt({"secret": secret})))
    return CreatedWithSecret(row, secret)


async def list_sources(tenant_id: uuid.UUID) -> list[InboundSource]:
    async with tenant_scope(tenant_id, write=False):
        return await InboundSource.objects_in_tenant().order_by(InboundSource.created_at)


@dataclass(frozen=True)
class InboundResult:
    receipt_id: uuid.UUID
    duplicate: bool


async def receive_inbound(tenant_id: uuid.UUID, source_id: uuid.UUID, body: bytes,
                          headers: dict[str, str]) -> InboundResult | None:
    """None for an unknown source; InboundRejected for a bad signature; WebhookInvalid for a
    malformed body. A repeated webhook-id returns the first receipt."""
    async with tenant_scope(tenant_id):
        source = await InboundSource.get_in_tenant(source_id)
        if source is None or not source.enabled:
            return None
        try:
            document = http.verify(crypto.decrypt(source.secret)["secret"], body, headers)
        except WebhookVerificationError as error:
            raise InboundRejected(f"webhook signature: {error}") from None
        except ValueError:
            raise WebhookInvalid("body", "body is not JSON") from None
        if not isinstance(document, dict):
            raise WebhookInvalid("body", "body must be a JSON object")
        kind, data = document.get("type"), document.get("data")
        if not isinstance(kind, str) or not EVENT_TYPE.match(kind) or kind == "*":
            raise WebhookInvalid("type", "type must be a dotted lower-case name")
        if not isinstance(data, dict):
            raise WebhookInvalid("data", "data must be a JSON object")
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"][:200]
        existing = await InboundReceipt.objects_in_tenant().where(
            (InboundReceipt.source_id == source.id) & (InboundReceipt.webhook_id == webhook_id)
        ).first()
        if existing is not None:
            return InboundResult(existing.id, True)
        (receipt,) = await InboundReceipt.insert_in_tenant(InboundReceipt(
            source_id=source.id, webhook_id=webhook_id, event_type=kind, payload=data))
        await events.emit(f"inbound.{source.kind}", {
            "source_id": source.id, "receipt_id": receipt.id, "type": kind})
        return InboundResult(receipt.id, False)


async def get_inbound_receipt(tenant_id: uuid.UUID, receipt_id: uuid.UUID) -> InboundReceipt | None:
    """What a consumer of an `inbound.*` event reads: the payload the third party sent."""
    async with tenant_scope(tenant_id, write=False):
        return await InboundReceipt.get_in_tenant(receipt_id)
