"""The message log API, provider callbacks and the public unsubscribe link."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, route
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    ServiceUnavailableException,
)
from litestar.response import Template

from dealerhub.channels.messages import inbound, service
from dealerhub.channels.messages.schemas import MessageDetail, MessageRead
from dealerhub.channels.plugin import CallbackRejected, InboundRequest
from dealerhub.channels.web import found, invalid
from dealerhub.platform.audit import AUDIT_READS, note_customer, note_customers_shown
from dealerhub.platform.auth import dealer_staff
from dealerhub.platform.config import get_settings
from dealerhub.platform.links import LinkInvalid, read_link
from dealerhub.platform.web import page

UNSUBSCRIBE_MAX_AGE = 400 * 86400


class MessageApiController(Controller):
    path = "/api/v1/messages"
    tags = ("messages",)
    guards = (dealer_staff,)

    @get("/", opt=AUDIT_READS)
    async def list_messages(self, request: Request, customer_id: uuid.UUID | None = None,
                            status: str | None = None, limit: int = 100,
                            offset: int = 0) -> list[MessageRead]:
        if status is not None and status not in service.MESSAGE_STATUSES:
            raise invalid("status", f"status must be one of {', '.join(service.MESSAGE_STATUSES)}")
        if not 1 <= limit <= 500 or offset < 0:
            raise invalid("limit", "limit must be 1–500 and offset not negative")
        rows = await service.list_messages(request.user.tenant_id, customer_id=customer_id,
                                           status=status, limit=limit, offset=offset)
        note_customers_shown(request, (row.customer_id for row in rows))
        return rows

    @get("/{message_id:uuid}", opt=AUDIT_READS)
    async def get_message(self, request: Request, message_id: uuid.UUID) -> MessageDetail:
        return await shown_message(request, message_id)


async def shown_message(request: Request, message_id: uuid.UUID) -> MessageDetail:
    """One of the dealer's messages, its reading noted in the audit trail (API and portal)."""
    message = found(await service.get_message(request.user.tenant_id, message_id), "message")
    note_customer(request, message.customer_id)
    return message


async def _inbound_request(request: Request) -> InboundRequest:
    """The URL the provider signed is our public one, not what a proxy handed us."""
    query = request.url.query
    url = get_settings().public_base_url + request.url.path + (f"?{query}" if query else "")
    return InboundRequest(url=url, method=request.method, body=await request.body(),
                          headers=dict(request.headers))


async def _callback(request: Request, channel_name: str, tenant_id: uuid.UUID | None) -> Response:
    """POST: a callback with facts; GET: the provider checking the URL (WeChat's echostr)."""
    inbound_request = await _inbound_request(request)
    try:
        if request.method == "GET":
            answer = await inbound.answer_handshake(channel_name, tenant_id, inbound_request)
            return Response(answer, media_type="text/plain", status_code=200)
        outcome = await inbound.receive_callback(channel_name, tenant_id, inbound_request)
    except inbound.UnknownCallbackTarget as error:
        raise NotFoundException(str(error)) from None
    except CallbackRejected as error:
        raise NotAuthorizedException(str(error)) from None
    except inbound.MalformedCallback as error:
        raise invalid("body", str(error)) from None
    except inbound.NotConfirmedYet as error:
        raise ServiceUnavailableException(str(error)) from None
    return Response(outcome.body, media_type=outcome.media_type, status_code=200)


class ChannelCallbackController(Controller):
    """Provider callbacks (delivery receipts, replies): public, verified by each plugin."""

    path = "/hooks/channels"
    include_in_schema = False

    @route("/{channel_name:str}", http_method=["GET", "POST"], exclude_from_auth=True,
           exclude_from_csrf=True, status_code=200)
    async def oem_account_callback(self, request: Request, channel_name: str) -> Response:
        return await _callback(request, channel_name, None)

    @route("/{channel_name:str}/{tenant_id:uuid}", http_method=["GET", "POST"],
           exclude_from_auth=True, exclude_from_csrf=True, status_code=200)
    async def dealer_account_callback(self, request: Request, channel_name: str,
                                      tenant_id: uuid.UUID) -> Response:
        return await _callback(request, channel_name, tenant_id)


def _unsubscribe_target(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        data = read_link("unsubscribe", token, UNSUBSCRIBE_MAX_AGE)
        return uuid.UUID(data["t"]), uuid.UUID(data["c"])
    except (LinkInvalid, KeyError, ValueError):
        raise NotFoundException("this link is not valid") from None


class UnsubscribeController(Controller):
    """The List-Unsubscribe target: a page to confirm, and RFC 8058 one-click POST."""

    path = "/c/unsubscribe"
    include_in_schema = False

    @get("/{token:str}", exclude_from_auth=True)
    async def confirm(self, request: Request, token: str) -> Template:
        _unsubscribe_target(token)
        return page(request, "channels/unsubscribe.html", token=token, done=False)

    @post("/{token:str}", exclude_from_auth=True, exclude_from_csrf=True, status_code=200)
    async def unsubscribe(self, request: Request, token: str) -> Any:
        from dealerhub.tenants.customers import service as customers

        tenant_id, customer_id = _unsubscribe_target(token)
        await customers.withdraw_consent(tenant_id, customer_id, "marketing", "unsubscribe link")
        return page(request, "channels/unsubscribe.html", token=token, done=True)
