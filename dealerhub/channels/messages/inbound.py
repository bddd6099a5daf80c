"""Provider callbacks: find the account, let its plugin verify and parse, apply the facts."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.messages.lifecycle import apply_callback
from dealerhub.channels.plugin import CallbackRejected, InboundRequest, channel_class
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope


class UnknownCallbackTarget(LookupError):
    """No such channel, dealer or account: answered 404."""


class MalformedCallback(ValueError):
    """Correctly signed but not understood: answered 400, nothing changed."""


@dataclass(frozen=True)
class CallbackOutcome:
    body: str
    media_type: str
    changed: int


async def receive_callback(channel: str, tenant_id: uuid.UUID | None,
                           request: InboundRequest) -> CallbackOutcome:
    """Raises UnknownCallbackTarget (404), CallbackRejected (401) or MalformedCallback (400);
    in each case nothing has changed."""
    if channel_class(channel) is None:
        raise UnknownCallbackTarget(f"no channel {channel!r}")
    if tenant_id is not None:
        if not await Dealer.exists().where(Dealer.id == tenant_id):
            raise UnknownCallbackTarget("no such dealer")
        async with tenant_scope(tenant_id, write=False):
            account = await credentials.account_for(channel)
    else:
        account = credentials.oem_account(channel)
    if account is None:
        raise UnknownCallbackTarget(f"no {channel} account here")
    plugin = account.plugin()
    # in a thread: verifying may fetch a signing certificate (SNS) the first time
    await asyncio.to_thread(plugin.verify_callback, request)
    try:
        found = plugin.parse_callback(request)
    except (CallbackRejected, ValueError, KeyError, TypeError) as error:
        raise MalformedCallback(f"malformed callback: {error}") from None
    for event in found:
        if event.kind == "subscribe" and event.text:
            await asyncio.to_thread(plugin.confirm_subscription, event.text)
    changed = await apply_callback(channel, tenant_id, found)
    body, media_type = plugin.callback_response()
    return CallbackOutcome(body, media_type, changed)
