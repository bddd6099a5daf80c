"""Dealer portal pages: channel settings (with discovered plugins), the message log with
each message's status timeline, and webhook endpoints with delivery attempts and replay."""

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
from dealerhub.channels.plugin import channel_class
from dealerhub.channels.webhooks import service as webhooks
from dealerhub.platform.auth import dealer_admin_only, dealer_staff
from dealerhub.platform.web import page
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


async def _webhooks_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    return page(request, "channels/webhooks.html", status_code=status_code,
                endpoints=await webhooks.list_endpoints(request.user.tenant_id),
                sources=await webhooks.list_sources(request.user.tenant_id), **extra)


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

    @get("/messages", guards=[dealer_staff])
    async def message_log(self, request: Request, status: str | None = None,
                          page_number: int = 1) -> Template:
        status = status if status in messages.MESSAGE_STATUSES else None
        page_number = max(1, page_number)
        rows = await messages.list_messages(request.user.tenant_id, status=status, limit=50,
                                            offset=(page_number - 1) * 50)
        return page(request, "channels/messages.html", messages=rows, status=status,
                    statuses=messages.MESSAGE_STATUSES, page_number=page_number)

    @get("/messages/{message_id:uuid}", guards=[dealer_staff])
    async def message_detail(self, request: Request, message_id: uuid.UUID) -> Template:
        found = await messages.get_message(request.user.tenant_id, message_id)
        if found is None:
            raise NotFoundException("no such message")
        return page(request, "channels/message.html", message=found)

    @get("/webhooks", guards=[dealer_admin_only])
    async def webhooks_page(self, request: Request) -> Template:
        return await _webhooks_page(request)

    @post("/webhooks", guards=[dealer_admin_only])
    async def create_endpoint(self, request: Request,
                              data: Annotated[EndpointForm, FORM]) -> Any:
        try:
            created = await webhooks.create_endpoint(
                request.user.tenant_id, data.url, data.event_types.replace(",", " ").split(),
                data.description)
        except webhooks.WebhookInvalid as error:
            return await _webhooks_page(request, 400, error=str(error), form=data)
        return await _webhooks_page(request, 201, created=created)

    @get("/webhooks/{endpoint_id:uuid}", guards=[dealer_admin_only])
    async def endpoint_page(self, request: Request, endpoint_id: uuid.UUID) -> Template:
        tenant_id = request.user.tenant_id
        endpoint = await webhooks.get_endpoint(tenant_id, endpoint_id)
        deliveries = await webhooks.list_deliveries(tenant_id, endpoint_id)
        if endpoint is None or deliveries is None:
            raise NotFoundException("no such endpoint")
        attempts = {d.id: await webhooks.list_attempts(tenant_id, d.id) or [] for d in deliveries}
        return page(request, "channels/endpoint.html", endpoint=endpoint, deliveries=deliveries,
                    attempts=attempts)

    @post("/webhooks/{endpoint_id:uuid}/toggle", guards=[dealer_admin_only])
    async def toggle_endpoint(self, request: Request, endpoint_id: uuid.UUID) -> Redirect:
        endpoint = await webhooks.get_endpoint(request.user.tenant_id, endpoint_id)
        if endpoint is None:
            raise NotFoundException("no such endpoint")
        await webhooks.update_endpoint(request.user.tenant_id, endpoint_id,
                                       enabled=not endpoint.enabled)
        return Redirect(f"/webhooks/{endpoint_id}", status_code=303)

    @post("/webhooks/deliveries/{delivery_id:uuid}/replay", guards=[dealer_admin_only])
    async def replay(self, request: Request, delivery_id: uuid.UUID) -> Redirect:
        try:
            delivery = await webhooks.replay(request.user.tenant_id, delivery_id)
        except webhooks.WebhookInvalid:
            delivery = None
        if delivery is None:
            raise NotFoundException("no such delivery, or its endpoint is disabled")
        return Redirect(f"/webhooks/{delivery.endpoint_id}", status_code=303)
