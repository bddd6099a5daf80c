"""What the three Twilio channels share: the SDK client (async, pointed at the configured
API base so a local stand-in can answer), error mapping and callback verification with
Twilio's own `RequestValidator`."""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlparse

from aiohttp import ClientSession, ClientTimeout
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from dealerhub.channels.plugin import (
    PROVIDER_TIMEOUT_SECONDS,
    CallbackEvent,
    CallbackRejected,
    Channel,
    ConfigField,
    InboundRequest,
    PermanentFailure,
    TemporaryFailure,
)

TWILIO_API = "https://api.twilio.com"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
_message_id: ContextVar[str | None] = ContextVar("twilio_message_id", default=None)
# The SDK logs every request and response at INFO, a dozen lines each: a quarter of a
# worker's time at volume. Ours keeps its warnings and errors only.
_http_log = logging.getLogger("dealerhub.channels.twilio_http")
_http_log.setLevel(logging.WARNING)
# Twilio error codes that no retry will fix: invalid/unreachable number, opted out, blocked.
PERMANENT_CODES = frozenset({21211, 21214, 21217, 21610, 21612, 21614, 21408, 63003, 63016})
MESSAGE_STATUS = {"sent": "sent", "delivered": "delivered", "read": "delivered",
                  "undelivered": "failed", "failed": "failed"}
CALL_STATUS = {"completed": "delivered", "busy": "failed", "no-answer": "failed",
               "failed": "failed", "canceled": "failed"}


class _BaseUrlHttpClient(AsyncTwilioHttpClient):
    """Twilio's aiohttp client, sending to `api_base` and carrying our message id."""

    def __init__(self, api_base: str) -> None:
        super().__init__(pool_connections=False, logger=_http_log)
        self.api_base = api_base.rstrip("/")
        self.session = ClientSession(timeout=ClientTimeout(total=PROVIDER_TIMEOUT_SECONDS))

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API):]
        kwargs.pop("timeout", None)
        headers = dict(kwargs.get("headers") or {})
        message_id = _message_id.get()
        if message_id:
            headers[IDEMPOTENCY_HEADER] = message_id
        if isinstance(kwargs.get("data"), dict):
            # the form encoded as aiohttp's FormData would, without the multipart writer
            # (and random boundary) FormData builds for every request
            kwargs["data"] = urlencode(kwargs["data"], doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        kwargs["headers"] = headers
        return await super().request(method, url, *args, **kwargs)


ClientKey = tuple[str, str, str]
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientKey, Client]] = (
    weakref.WeakKeyDictionary())


def twilio_client(config: dict[str, str]) -> Client:
    """One SDK client per account and event loop (its connection pool belongs to the loop)."""
    loop = asyncio.get_running_loop()
    key = (config["account_sid"], config["auth_token"], config.get("api_base_url") or TWILIO_API)
    per_loop = _clients.setdefault(loop, {})
    if key not in per_loop:
        per_loop[key] = Client(key[0], key[1], http_client=_BaseUrlHttpClient(key[2]))
    return per_loop[key]


def map_error(error: TwilioRestException) -> Exception:
    text = f"Twilio {error.status} error {error.code}: {error.msg}"[:300]
    if error.status == 429 or error.status >= 500:
        return TemporaryFailure(text)
    if error.code in PERMANENT_CODES or 400 <= error.status < 500:
        return PermanentFailure(text)
    return TemporaryFailure(text)


class TwilioChannel(Channel):
    """Base of the Twilio channels: settings, sending with error mapping, callbacks."""

    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("account_sid", "Account SID"),
        ConfigField("auth_token", "Auth token", secret=True),
        ConfigField("from_number", "From number (E.164)"),
        ConfigField("api_base_url", "API base URL (blank: api.twilio.com)", required=False),
    )
    sender_field = "from_number"

    def _from(self, sender: str | None) -> str:
        return sender or self.config["from_number"]

    async def _create(self, message_id: str, create: Any, **params: Any) -> str:
        """Call the SDK; our message id rides along as the request's idempotency token."""
        token = _message_id.set(message_id)
        try:
            resource = await create(**params)
        except TwilioRestException as error:
            raise map_error(error) from None
        except (TimeoutError, OSError) as error:
            raise TemporaryFailure(f"Twilio unreachable: {error}") from None
        finally:
            _message_id.reset(token)
        return resource.sid

    def verify_callback(self, request: InboundRequest) -> None:
        signature = request.header("X-Twilio-Signature")
        if not signature:
            raise CallbackRejected("X-Twilio-Signature header missing")
        validator = RequestValidator(self.config["auth_token"])
        if not validator.validate(request.url, request.form(), signature):
            raise CallbackRejected("X-Twilio-Signature does not match")

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        form = request.form()
        now = datetime.now(UTC)
        # our message id rides in the signed StatusCallback URL: a callback that overtakes
        # our own record of the provider's id still finds its message
        ours = parse_qs(urlparse(request.url).query).get("message_id", [None])[0]
        if form.get("CallSid") and form.get("CallStatus"):
            status = CALL_STATUS.get(form["CallStatus"])
            return [CallbackEvent("status", form["CallSid"], status, message_id=ours, at=now,
                                  detail=f"call {form['CallStatus']}")] if status else []
        sid = form.get("MessageSid") or form.get("SmsSid")
        if not sid:
            raise CallbackRejected("MessageSid is missing")
        if form.get("MessageStatus"):
            status = MESSAGE_STATUS.get(form["MessageStatus"])
            detail = form["MessageStatus"]
            if form.get("ErrorCode"):
                detail += f" (error {form['ErrorCode']})"
            return [CallbackEvent("status", sid, status, message_id=ours, at=now,
                                  detail=detail)] if status else []
        if "Body" in form and form.get("From"):
            sender = form["From"].removeprefix("whatsapp:")
            return [CallbackEvent("reply", sid, from_address=sender, text=form["Body"], at=now)]
        raise CallbackRejected("neither MessageStatus nor Body is present")

    def callback_response(self) -> tuple[str, str]:
        return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml"
