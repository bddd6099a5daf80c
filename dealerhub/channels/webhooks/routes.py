"""Webhook endpoints, their deliveries and attempts, replay (a dealer's, and the OEM's under
/api/v1/hq), inbound sources, and the public inbound receiver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from dealerhub.channels.web import found, invalid
from dealerhub.channels.webhooks import service
from dealerhub.channels.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
    InboundAccepted,
    SourceCreate,
    SourceCreated,
    SourceRead,
    attempt_read,
    delivery_read,
    endpoint_read,
    source_read,
)
from dealerhub.platform.auth import dealer_admin_only, oem_admin_only


@contextmanager
def _refusals() -> Iterator[None]:
    """A WebhookInvalid from the service becomes a 400 naming its field."""
    try:
        yield
    except service.WebhookInvalid as error:
        raise invalid(error.field, str(error)) from None


def dealer_of(request: Request) -> uuid.UUID:
    """The signed-in dealer; never None here, which would mean the OEM's endpoints."""
    tenant_id = request.user.tenant_id
    if tenant_id is None:
        raise PermissionDeniedException("only a dealer's users manage its endpoints")
    return tenant_id  # type: ignore[no-any-return]


class EndpointApi(Controller):
    """Endpoints, deliveries, attempts and replay: one set of operations for a dealer's
    endpoints and for the OEM's (whose `endpoint_owner` is None)."""

    tags = ("webhooks",)

    def endpoint_owner(self, request: Request) -> uuid.UUID | None:
        return dealer_of(request)

    @get("/endpoints")
    async def list_endpoints(self, request: Request) -> list[EndpointRead]:
        rows = await service.list_endpoints(self.endpoint_owner(request))
        return [endpoint_read(r) for r in rows]

    @post("/endpoints")
    async def create_endpoint(self, request: Request, data: EndpointCreate) -> EndpointCreated:
        """Register an endpoint; its signing secret is shown once, here."""
        with _refusals():
            created = await service.create_endpoint(self.endpoint_owner(request), data.url,
                                                    data.event_types, data.description)
        return EndpointCreated(**msgspec.structs.asdict(endpoint_read(created.row)),
                               secret=created.secret)

    @get("/endpoints/{endpoint_id:uuid}")
    async def get_endpoint(self, request: Request, endpoint_id: uuid.UUID) -> EndpointRead:
        row = await service.get_endpoint(self.endpoint_owner(request), endpoint_id)
        return endpoint_read(found(row, "endpoint"))

    @patch("/endpoints/{endpoint_id:uuid}")
    async def update_endpoint(self, request: Request, endpoint_id: uuid.UUID,
                              data: EndpointUpdate) -> EndpointRead:
        with _refusals():
            row = await service.update_endpoint(self.endpoint_owner(request), endpoint_id,
                                                url=data.url, event_types=data.event_types,
                                                enabled=data.enabled)
        return endpoint_read(found(row, "endpoint"))

    @get("/endpoints/{endpoint_id:uuid}/deliveries")
    async def deliveries(self, request: Request, endpoint_id: uuid.UUID) -> list[DeliveryRead]:
        rows = await service.list_deliveries(self.endpoint_owner(request), endpoint_id)
        return [delivery_read(r) for r in found(rows, "endpoint")]

    @get("/deliveries/{delivery_id:uuid}/attempts")
    async def attempts(self, request: Request, delivery_id: uuid.UUID) -> list[AttemptRead]:
        rows = await service.list_attempts(self.endpoint_owner(request), delivery_id)
        return [attempt_read(r) for r in found(rows, "delivery")]

    @post("/deliveries/{delivery_id:uuid}/replay", status_code=202)
    async def replay(self, request: Request, delivery_id: uuid.UUID) -> DeliveryRead:
        with _refusals():
            row = await service.replay(self.endpoint_owner(request), delivery_id)
        return delivery_read(found(row, "delivery"))


class WebhookApiController(EndpointApi):
    path = "/api/v1/webhooks"
    guards = (dealer_admin_only,)

    @get("/sources")
    async def list_sources(self, request: Request) -> list[SourceRead]:
        return [source_read(r) for r in await service.list_sources(request.user.tenant_id)]

    @post("/sources")
    async def create_source(self, request: Request, data: SourceCreate) -> SourceCreated:
        """Register a third party that sends us webhooks; its secret is shown once, here."""
        with _refusals():
            created = await service.create_source(request.user.tenant_id, data.name, data.kind)
        return SourceCreated(**msgspec.structs.asdict(source_read(created.row)),
                             secret=created.secret)


class OemWebhookApiController(EndpointApi):
    """The OEM's endpoints: events of every dealer, each naming its dealer, no customer data."""

    path = "/api/v1/hq/webhooks"
    guards = (oem_admin_only,)

    def endpoint_owner(self, request: Request) -> uuid.UUID | None:
        return None


class InboundWebhookController(Controller):
    """Third parties post here, signed per Standard Webhooks; idempotent by webhook-id."""

    path = "/hooks/in"
    include_in_schema = False

    @post("/{tenant_id:uuid}/{source_id:uuid}", exclude_from_auth=True, exclude_from_csrf=True,
          status_code=202)
    async def receive(self, request: Request, tenant_id: uuid.UUID,
                      source_id: uuid.UUID) -> InboundAccepted:
        try:
            result = await service.receive_inbound(tenant_id, source_id, await request.body(),
                                                   dict(request.headers))
        except service.InboundRejected as error:
            raise NotAuthorizedException(str(error)) from None
        except service.WebhookInvalid as error:
            raise invalid(error.field, str(error)) from None
        accepted = found(result, "source")
        return InboundAccepted(accepted.receipt_id, accepted.duplicate)
