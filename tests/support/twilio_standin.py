"""A small local stand-in for the Twilio REST API (Messages and Calls resources), answering
as Twilio's public API reference describes: form-encoded requests with HTTP Basic auth
(Account SID : Auth Token), 201 with the resource's JSON, errors as
`{"code", "message", "more_info", "status"}`.

Behaviour the tests steer:
- numbers in `invalid_numbers` (the magic +15005550001 by default) are an invalid `To`
  (error 21211, as with Twilio's test credentials); +15005550009 is not SMS-capable (21614);
- `fail_next(status, code)` makes the next request fail (429/500 …), `delay` holds answers;
- a repeated `I-Twilio-Idempotency-Token` answers the first resource again without
  recording a second send (our message id rides in it).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from tests.support.http_server import LocalServer, Recorded

INVALID_TO = "+15005550001"
NOT_SMS_CAPABLE = "+15005550009"


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}",
                              "status": status}, status=status)


class TwilioStandIn(LocalServer):
    def __init__(self, accounts: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts = dict(accounts or {})  # account sid -> auth token
        self.sent: list[Recorded] = []  # accepted sends, one per resource created
        self.delay = 0.0
        self.invalid_numbers = {INVALID_TO}
        self._failures: list[tuple[int, int]] = []
        self._by_token: dict[str, dict[str, Any]] = {}
        self._guard = threading.Lock()

    def add_account(self) -> tuple[str, str]:
        sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        self.accounts[sid] = token
        return sid, token

    def fail_next(self, status: int, code: int = 20500, times: int = 1) -> None:
        self._failures += [(status, code)] * times

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._calls)

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            sid, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return sid == request.match_info["sid"] and self.accounts.get(sid) == token

    async def _common(self, request: web.Request) -> tuple[Recorded | None, web.Response | None]:
        entry = await self.record(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._authorised(request):
            return None, _error(401, 20003, "Authenticate")
        if self._failures:
            status, code = self._failures.pop(0)
            return None, _error(status, code, "stand-in failure")
        if not entry.form.get("To"):
            return None, _error(400, 21604, "A 'To' phone number is required.")
        to = entry.form["To"].removeprefix("whatsapp:")
        if to in self.invalid_numbers:
            return None, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        return entry, None

    def _once(self, entry: Recorded, make: Any) -> web.Response:
        token = entry.headers.get("I-Twilio-Idempotency-Token")
        with self._guard:
            if token and token in self._by_token:
                return web.json_response(self._by_token[token], status=201)
            resource = make()
            if token:
                self._by_token[token] = resource
            self.sent.append(entry)
        return web.json_response(resource, status=201)

    async def _messages(self, request: web.Request) -> web.Response:
        entry, failure = await self._common(request)
        if failure is not None or entry is None:
            return failure  # type: ignore[return-value]
        form = entry.form
        if form["To"].removeprefix("whatsapp:") == NOT_SMS_CAPABLE:
            return _error(400, 21614, "'To' number is not a valid mobile number")
        sid = request.match_info["sid"]
        now = format_datetime(datetime.now(UTC), usegmt=True)

        def make() -> dict[str, Any]:
            message_sid = _sid("SM")
            return {
                "account_sid": sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
                "date_created": now, "date_sent": None, "date_updated": now,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": form.get("From"), "messaging_service_sid": None, "num_media": "0",
                "num_segments": "1", "price": None, "price_unit": "USD", "sid": message_sid,
                "status": "queued", "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
                "to": form["To"], "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            }

        return self._once(entry, make)

    async def _calls(self, request: web.Request) -> web.Response:
        entry, failure = await self._common(request)
        if failure is not None or entry is None:
            return failure  # type: ignore[return-value]
        form = entry.form
        if not (form.get("Twiml") or form.get("Url")):
            return _error(400, 21205, "Url or Twiml parameter is required.")
        sid = request.match_info["sid"]
        now = format_datetime(datetime.now(UTC), usegmt=True)

        def make() -> dict[str, Any]:
            call_sid = _sid("CA")
            return {
                "account_sid": sid, "answered_by": None, "api_version": "2010-04-01",
                "caller_name": None, "date_created": now, "date_updated": now,
                "direction": "outbound-api", "duration": None, "end_time": None,
                "forwarded_from": None, "from": form.get("From"),
                "from_formatted": form.get("From"),
                "parent_call_sid": None, "phone_number_sid": None, "price": None,
                "price_unit": "USD", "sid": call_sid, "start_time": None, "status": "queued",
                "to": form["To"], "to_formatted": form["To"],
                "uri": f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json",
            }

        return self._once(entry, make)
