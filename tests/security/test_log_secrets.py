"""Secrets and personal data never reach the logs: every log record of the root logger and
of uvicorn, Litestar, Dramatiq, Twilio's SDK and httpx is captured, at the levels the app
configures, while real flows handle phone numbers, e-mail addresses, passwords, bearer
tokens, API keys, signed customer links and channel credentials; then the captured text
is searched for each of those values."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from dealerhub.app import create_app
from dealerhub.channels import service as channels
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.links import sign_link
from dealerhub.platform.log_redaction import redact
from tests.channels.conftest import SERVICE, deliver_outbox, new_phone, save_account
from tests.channels.conftest import new_customer as new_channel_customer
from tests.channels.test_twilio import signed
from tests.conftest import PASSWORD
from tests.support.twilio_standin import TwilioStandIn

pytestmark = pytest.mark.anyio
LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "litestar", "dramatiq",
           "twilio", "twilio.http_client", "httpx", "dealerhub")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def captured_logs() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.INFO)  # what telemetry._setup_logging configures
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        root.setLevel(previous)


@contextlib.asynccontextmanager
async def served(app) -> AsyncIterator[str]:
    """The app behind a real uvicorn (access log on, as `dealerhub serve` runs it), in this
    event loop; the database is the test session's, so uvicorn does not run the lifespan."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                            log_level="info", access_log=True, proxy_headers=True)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def twilio_config() -> Iterator[dict[str, str]]:
    stand_in = TwilioStandIn().start()
    sid, token = stand_in.add_account()
    yield {"account_sid": sid, "auth_token": token, "from_number": "+8610690000",
           "api_base_url": stand_in.url}
    stand_in.stop()


def assert_absent(text: str, secrets: dict[str, str]) -> None:
    leaked = {label: value for label, value in secrets.items() if value and value in text}
    assert not leaked, f"in the logs: {sorted(leaked)}\n{text[-3000:]}"


async def test_flows_log_no_secrets(client, dealer_a, twilio_config) -> None:
    phone, email = new_phone(), "li.lei.secret@example.cn"
    key = await create_api_key(dealer_a.id, "logs", ["read", "write"], None)
    # uvicorn configures its loggers as it starts, so the capture begins once it serves
    # its own app: `client.app` lives in the test client's event loop
    served_app = create_app(embedded_jobs=False)
    async with served(served_app) as base, httpx.AsyncClient(base_url=base) as http:
        with captured_logs() as logs:
            token = (await http.post("/api/v1/auth/token", json={
                "email": dealer_a.emails["dealer_admin"], "password": PASSWORD})).json()
            bearer = {"Authorization": f"Bearer {token['access_token']}"}
            wrong = await http.post("/api/v1/auth/token", json={
                "email": dealer_a.emails["cs_agent"], "password": "Wrong-" + PASSWORD})
            assert wrong.status_code == 401
            created = await http.post("/api/v1/customers", headers=bearer, json={
                "name": "李雷", "phone": phone, "email": email})
            assert created.status_code == 201, created.text
            customer_id = created.json()["id"]
            by_key = {"Authorization": f"Bearer {key.plaintext}"}
            assert (await http.get(f"/api/v1/customers/{customer_id}",
                                   headers=by_key)).status_code == 200
            assert (await http.get("/api/v1/customers", headers=by_key,
                                   params={"q": phone})).status_code == 200
            link = sign_link("unsubscribe", {"t": str(dealer_a.id), "c": customer_id})
            assert (await http.get(f"/c/unsubscribe/{link}")).status_code == 200
            assert (await http.get(f"/c/survey/{link}")).status_code == 400  # wrong purpose
            await save_account(dealer_a.id, "twilio_sms", twilio_config)
            reply_from = new_phone()
            customer = await new_channel_customer(dealer_a.id, phone=reply_from)
            await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                           {"vehicle": "TXL"})
            assert await deliver_outbox(dealer_a.id) == {"sent": 1}
            path = f"/hooks/channels/twilio_sms/{dealer_a.id}"
            body, headers = signed(twilio_config, path, {
                "MessageSid": "SM" + "7" * 32, "SmsStatus": "received", "Body": "2",
                "From": reply_from, "To": twilio_config["from_number"]})
            # through the ASGI client: the signature covers the public base URL
            assert (await client.post(path, content=body, headers=headers)).status_code == 200
            forged = await http.post(path, content=urlencode({"From": phone}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert forged.status_code == 401
    assert any("uvicorn.access" in line for line in logs.lines), "no access log captured"
    assert any("twilio" in line for line in logs.lines), "the Twilio SDK logged nothing"
    assert_absent(logs.text, {
        "phone": phone, "phone without +": phone.lstrip("+"), "reply phone": reply_from,
        "e-mail": email, "password": PASSWORD, "bearer token": token["access_token"],
        "api key": key.plaintext, "api key secret": key.plaintext[-20:], "signed link": link,
        "twilio auth token": twilio_config["auth_token"],
    })


async def test_console_channel_logs_no_phone_or_body(dealer_a) -> None:
    phone = new_phone()
    customer = await new_channel_customer(dealer_a.id, phone=phone, name="韩梅梅")
    with captured_logs() as logs:
        await channels.enqueue_message(dealer_a.id, customer, "service", SERVICE,
                                       {"vehicle": "TXL"})
        await deliver_outbox(dealer_a.id)
    assert "console message" in logs.text
    assert_absent(logs.text, {"phone": phone, "name": "韩梅梅", "body": "该保养了"})


def test_uvicorn_access_lines_keep_their_shape() -> None:
    """uvicorn's AccessFormatter unpacks record.args: redaction keeps each argument's place."""
    from uvicorn.logging import AccessFormatter

    from dealerhub.platform import log_redaction

    log_redaction.install()
    token = sign_link("survey", {"t": "x", "i": "y"})
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/c/survey/{token}?lang=en", "1.1", 200), None)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert token not in line and "/c/survey/[signed-token]?lang=en" in line and "200" in line


@pytest.mark.parametrize(("text", "secret"), [
    ("POST /cgi-bin/message/send?access_token=Zx81-secret HTTP/1.1", "Zx81-secret"),
    ("Authorization: Basic QUMxMjM6c2VjcmV0", "QUMxMjM6c2VjcmV0"),
    ("To=%2B8613812345678&Body=hi", "8613812345678"),
    ("call 13812345678 back", "13812345678"),
    ("mail zhang.san%40example.com", "zhang.san"),
    ("key dhk_0123456789abcdef0123456789abcdefdeadbeefSECRETSECRET", "SECRETSECRET"),
])
def test_redaction_patterns(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redaction_leaves_ids_and_numbers_alone() -> None:
    text = "dealer 0b7c2f7e-1a2b-4c3d-9e8f-446655440000 took 1732370000123 ms, 42 rows"
    assert redact(text) == text
