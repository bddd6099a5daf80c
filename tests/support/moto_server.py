"""moto in server mode: real boto3 calls over real HTTP to a local AWS stand-in."""

from __future__ import annotations

import boto3
import requests
from moto.server import ThreadedMotoServer

from tests.support.http_server import free_port

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, region_name=REGION, endpoint_url=self.url, **CREDENTIALS)

    def sent_emails(self) -> list[dict]:
        """The raw e-mails SES accepted (id, source, destinations, raw_data), from moto's
        own view of its backend."""
        data = requests.get(f"{self.url}/moto-api/data.json", timeout=10).json()
        return data.get("ses", {}).get("RawMessage", [])
