"""Provider callbacks: find the account, let its plugin verify and parse, apply the facts."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from dealerhub.channels.credentials import service as credentials
from dealerhub.channels.messages.lifecycle import apply_callback
from dealerhub.channels.plugin import CallbackRejected, Channel, InboundRequest, channel_class
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope


class UnknownCallbackTarget(LookupError):
    """No such channel, dealer or account: answered 404."""


class MalformedCallback(ValueError):
    """Correctly signed but not understood: answered 400, nothing changed."""


class NotConfirmedYet(RuntimeError):
    """A verified subscription handshake the provider did not accept this time: answered
    503, so the provider sends it again."""


@dataclass(frozen=True)
class CallbackOutcome:
    body: str
    media_type: str
    changed: int


async def _plugin(channel: str, tenant_id: uuid.UUID | None) -> Channel:
    """The plugin of the account a callback URL names (the dealer's, or the OEM's shared)."""
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
    return account.plugin()


async def answer_handshake(channel: str, tenant_id: uuid.UUID | None,
                           request: InboundRequest) -> str:
    """The answer to a provider's URL check; UnknownCallbackTarget or CallbackRejected."""
    answer = (await _plugin(channel, tenant_id)).answer_handshake(request)
    if answer is None:
        raise UnknownCallbackTarget(f"{channel} has no callback URL check")
    return answer


async def receive_callback(channel: str, tenant_id: uuid.UUID | None,
                           request: InboundRequest) -> CallbackOutcome:
    """Raises UnknownCallbackTarget (404), CallbackRejected (401), MalformedCallback (400)
    or NotConfirmedYet (503); in each case nothing has changed."""
    plugin = await _plugin(channel, tenant_id)
    # in a thread: verifying may fetch a signing certificate (SNS) the first time
    await asyncio.to_thread(plugin.verify_callback, request)
    try:
        found = plugin.parse_callback(request)
    except (CallbackRejected, ValueError, KeyError, TypeError) as error:
        raise MalformedCallback(f"malformed callback: {error}") from None
    for event in found:
        if event.kind == "subscribe" and event.text \
                and not await asyncio.to_thread(plugin.confirm_subscription, event.text):
            raise NotConfirmedYet("the subscription could not be confirmed yet")
    changed = await apply_callback(channel, tenant_id, found)
    body, media_type = plugin.callback_response()
    return CallbackOutcome(body, media_type, changed)
