"""Dealer portal pages: channel settings (with discovered plugins), the message log with
each message's status timeline, and webhook endpoints with delivery attempts and replay
(the OEM's endpoints have the same pages in the HQ console)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Struct

from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.credentials.routes import plugin_reads
from dealerhub.channels.messages import service as messages
from dealerhub.channels.messages.routes import shown_message
from dealerhub.channels.plugin import channel_class
from dealerhub.channels.webhooks import service as webhooks
from dealerhub.channels.webhooks.routes import dealer_of
from dealerhub.platform.audit import AUDIT_READS, note_customers_shown
from dealerhub.platform.auth import dealer_admin_only, dealer_staff, oem_admin_only
from dealerhub.platform.web import found, page
from dealerhub.platform.web.i18n import request_locale

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class EndpointForm(Struct):
    url: str = ""
    event_types: str = "*"
    description: str = ""


async def _settings_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    tenant_id = request.user.tenant_id
    return page(request, "channels/settings.html", status_code=status_code,
                plugins=plugin_reads(request_locale(request)),
                accounts={a.channel: a for a in await credentials.list_accounts(tenant_id)},
                **extra)


class ChannelPagesController(Controller):
    include_in_schema = False

    @get("/channels", guards=[dealer_admin_only])
    async def settings(self, request: Request) -> Template:
        return await _settings_page(request)

    @post("/channels", guards=[dealer_admin_only])
    async def save_settings(self, request: Request) -> Any:
        form = dict(await request.form())
        channel = str(form.pop("channel", ""))
        cls = channel_class(channel)
        known = {f.name for f in cls.config_fields} if cls else set()
        try:
            await credentials.save_account(
                request.user.tenant_id, channel, enabled=form.get("enabled") == "on",
                sender=str(form.get("sender", "")),
                settings={k: str(v) for k, v in form.items() if k in known})
        except credentials.AccountInvalid as error:
            return await _settings_page(request, 400, error=str(error), error_channel=channel)
        return Redirect("/channels", status_code=303)

    @get("/messages", guards=[dealer_staff], opt=AUDIT_READS)
    async def message_log(self, request: Request, status: str | None = None,
                          page_number: int = 1) -> Template:
        status = status if status in messages.MESSAGE_STATUSES else None
        page_number = max(1, page_number)
        rows = await messages.list_messages(request.user.tenant_id, status=status, limit=50,
                                            offset=(page_number - 1) * 50)
        note_customers_shown(request, (row.customer_id for row in rows))
        return page(request, "channels/messages.html", messages=rows, status=status,
                    statuses=messages.MESSAGE_STATUSES, page_number=page_number)

    @get("/messages/{message_id:uuid}", guards=[dealer_staff], opt=AUDIT_READS)
    async def message_detail(self, request: Request, message_id: uuid.UUID) -> Template:
        return page(request, "channels/message.html",
                    message=await shown_message(request, message_id))


class EndpointPages(Controller):
    """Webhook endpoints with their deliveries, attempts and replay; the dealer's pages and
    the OEM's (whose `endpoint_owner` is None, and which has no inbound sources)."""

    include_in_schema = False

    def endpoint_owner(self, request: Request) -> uuid.UUID | None:
        return dealer_of(request)

    async def _list_page(self, request: Request, status_code: int = 200,
                         **extra: Any) -> Template:
        owner = self.endpoint_owner(request)
        return page(request, "channels/webhooks.html", status_code=status_code,
                    base=self.path, endpoints=await webhooks.list_endpoints(owner),
                    sources=None if owner is None else await webhooks.list_sources(owner),
                    **extra)

    @get("/")
    async def webhooks_page(self, request: Request) -> Template:
        return await self._list_page(request)

    @post("/")
    async def create_endpoint(self, request: Request,
                              data: Annotated[EndpointForm, FORM]) -> Any:
        try:
            created = await webhooks.create_endpoint(
                self.endpoint_owner(request), data.url, data.event_types.replace(",", " ").split(),
                data.description)
        except webhooks.WebhookInvalid as error:
            return await self._list_page(request, 400, error=str(error), form=data)
        return await self._list_page(request, 201, created=created)

    @get("/{endpoint_id:uuid}")
    async def endpoint_page(self, request: Request, endpoint_id: uuid.UUID) -> Template:
        owner = self.endpoint_owner(request)
        endpoint = await webhooks.get_endpoint(owner, endpoint_id)
        deliveries = await webhooks.list_deliveries(owner, endpoint_id)
        if endpoint is None or deliveries is None:
            raise NotFoundException("no such endpoint")
        attempts = {d.id: await webhooks.list_attempts(owner, d.id) or [] for d in deliveries}
        return page(request, "channels/endpoint.html", base=self.path, endpoint=endpoint,
                    deliveries=deliveries, attempts=attempts)

    @post("/{endpoint_id:uuid}/toggle")
    async def toggle_endpoint(self, request: Request, endpoint_id: uuid.UUID) -> Redirect:
        endpoint = found(await webhooks.get_endpoint(self.endpoint_owner(request), endpoint_id),
                         "endpoint")
        await webhooks.update_endpoint(self.endpoint_owner(request), endpoint_id,
                                       enabled=not endpoint.enabled)
        return Redirect(f"{self.path}/{endpoint_id}", status_code=303)

    @post("/deliveries/{delivery_id:uuid}/replay")
    async def replay(self, request: Request, delivery_id: uuid.UUID) -> Redirect:
        try:
            delivery = await webhooks.replay(self.endpoint_owner(request), delivery_id)
        except webhooks.WebhookInvalid:
            delivery = None
        delivery = found(delivery, "delivery, or its endpoint is disabled")
        return Redirect(f"{self.path}/{delivery.endpoint_id}", status_code=303)


class WebhookPagesController(EndpointPages):
    path = "/webhooks"
    guards = (dealer_admin_only,)


class OemWebhookPagesController(EndpointPages):
    path = "/hq/webhooks"
    guards = (oem_admin_only,)

    def endpoint_owner(self, request: Request) -> uuid.UUID | None:
        return None
