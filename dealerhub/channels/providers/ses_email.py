"""E-mail through Amazon SES (boto3): HTML and text parts, List-Unsubscribe for marketing.
Bounces, complaints and deliveries come back through SNS, whose signature is verified
against its signing certificate (the certificate's host and the topic are checked first)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, ClassVar
from urllib.parse import urlparse

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from dealerhub.channels.plugin import (
    PROVIDER_TIMEOUT_SECONDS,
    CallbackEvent,
    CallbackRejected,
    Channel,
    ConfigField,
    InboundRequest,
    OutboundMessage,
    PermanentFailure,
    TemporaryFailure,
)

SNS_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
PERMANENT_ERRORS = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException",
                              "AccountSendingPausedException", "InvalidParameterValue"})
SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
# Signing certificates by URL; fetched once (only from an SNS host) and kept.
CERTIFICATES: dict[str, bytes] = {}
_clients: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def aws_client(service: str, config: dict[str, str], region: str | None = None) -> Any:
    """One boto3 client per service, account and region (boto3 clients are thread-safe)."""
    key = (service, region or config["region"], config["access_key_id"],
           config["secret_access_key"], config.get("endpoint_url") or "")
    with _lock:
        if key not in _clients:
            _clients[key] = boto3.client(
                service, region_name=key[1], aws_access_key_id=key[2],
                aws_secret_access_key=key[3], endpoint_url=key[4] or None,
                config=Config(connect_timeout=PROVIDER_TIMEOUT_SECONDS,
                              read_timeout=PROVIDER_TIMEOUT_SECONDS,
                              retries={"max_attempts": 1}),
            )
        return _clients[key]


def build_mime(message: OutboundMessage, sender: str) -> bytes:
    mail = EmailMessage()
    mail["Subject"] = message.subject or ""
    mail["From"] = sender if "<" in sender else formataddr(("", sender))
    mail["To"] = message.to
    mail["Message-ID"] = make_msgid(idstring=message.message_id)
    mail["X-Dealerhub-Message-Id"] = message.message_id
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.body, cte="quoted-printable")
    if message.html:
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return bytes(mail)


def _signing_certificate(url: str) -> x509.Certificate:
    parsed = urlparse(url)
    if parsed.scheme != "https" or not SNS_CERT_HOST.match(parsed.hostname or "") \
            or not parsed.path.endswith(".pem"):
        raise CallbackRejected("SigningCertURL is not an Amazon SNS certificate URL")
    pem = CERTIFICATES.get(url)
    if pem is None:
        try:
            response = httpx.get(url, timeout=PROVIDER_TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
        except httpx.HTTPError:
            raise CallbackRejected("SigningCertURL could not be fetched") from None
        pem = CERTIFICATES[url] = response.content
    return x509.load_pem_x509_certificate(pem)


def string_to_sign(document: dict[str, Any]) -> bytes:
    keys = SIGNED_KEYS.get(document.get("Type", ""))
    if keys is None:
        raise CallbackRejected("unknown SNS message Type")
    parts = []
    for key in keys:
        if key in document and document[key] is not None:
            parts.append(f"{key}\n{document[key]}\n")
        elif key != "Subject":
            raise CallbackRejected(f"SNS message lacks {key}")
    return "".join(parts).encode()


def verify_sns(document: dict[str, Any], topic_arn: str) -> None:
    if document.get("TopicArn") != topic_arn:
        raise CallbackRejected("TopicArn is not this account's SES notification topic")
    version = str(document.get("SignatureVersion", ""))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algorithm is None:
        raise CallbackRejected("unsupported SignatureVersion")
    certificate = _signing_certificate(str(document.get("SigningCertURL", "")))
    try:
        signature = base64.b64decode(str(document.get("Signature", "")), validate=True)
        certificate.public_key().verify(  # type: ignore[union-attr,call-arg]
            signature, string_to_sign(document), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, ValueError):
        raise CallbackRejected("SNS signature does not match") from None


class SesEmailChannel(Channel):
    medium = "email"
    label: ClassVar[dict[str, str]] = {
        "en": "E-mail (Amazon SES)", "zh-CN": "电子邮件（Amazon SES）"}
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("region", "AWS region"),
        ConfigField("access_key_id", "Access key ID"),
        ConfigField("secret_access_key", "Secret access key", secret=True),
        ConfigField("from_address", "From address"),
        ConfigField("sns_topic_arn", "SNS topic ARN for bounces and complaints", required=False),
        ConfigField("configuration_set", "Configuration set", required=False),
        ConfigField("endpoint_url", "Endpoint URL (blank: AWS)", required=False),
    )
    sender_field = "from_address"

    async def send(self, message: OutboundMessage) -> str:
        sender = message.sender or self.config["from_address"]
        params: dict[str, Any] = {"Source": sender, "Destinations": [message.to],
                                  "RawMessage": {"Data": build_mime(message, sender)}}
        if self.config.get("configuration_set"):
            params["ConfigurationSetName"] = self.config["configuration_set"]
        client = aws_client("ses", self.config)
        try:
            response = await asyncio.to_thread(client.send_raw_email, **params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            text = f"SES {code}: {error.response.get('Error', {}).get('Message', '')}"[:300]
            if code in PERMANENT_ERRORS:
                raise PermanentFailure(text) from None
            raise TemporaryFailure(text) from None
        except BotoCoreError as error:
            raise TemporaryFailure(f"SES unreachable: {error}"[:300]) from None
        return response["MessageId"]

    def _document(self, request: InboundRequest) -> dict[str, Any]:
        try:
            document = json.loads(request.body)
        except ValueError:
            raise CallbackRejected("body is not JSON") from None
        if not isinstance(document, dict):
            raise CallbackRejected("body is not a JSON object")
        return document

    def verify_callback(self, request: InboundRequest) -> None:
        topic = self.config.get("sns_topic_arn")
        if not topic:
            raise CallbackRejected("no SNS topic is configured for this account")
        verify_sns(self._document(request), topic)

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        document = self._document(request)
        if document.get("Type") == "SubscriptionConfirmation":
            token = document.get("Token")
            if not isinstance(token, str) or not token:
                raise CallbackRejected("SubscriptionConfirmation without a Token")
            return [CallbackEvent("subscribe", text=token)]
        if document.get("Type") != "Notification":
            return []
        try:
            notice = json.loads(document["Message"])
            kind = notice.get("notificationType") or notice.get("eventType")
            provider_id = notice["mail"]["messageId"]
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("Message is not an SES notification") from None
        at = datetime.now(UTC)
        if kind == "Delivery":
            return [CallbackEvent("status", provider_id, "delivered", at=at, detail="delivered")]
        if kind == "Bounce":
            bounce = notice.get("bounce") or {}
            if bounce.get("bounceType") != "Permanent":
                return []
            return [CallbackEvent("status", provider_id, "bounced", at=at,
                                  detail=f"bounce {bounce.get('bounceSubType', '')}".strip())]
        if kind == "Complaint":
            return [CallbackEvent("complaint", provider_id, at=at, detail="complaint")]
        return []

    def confirm_subscription(self, token: str) -> bool:
        """Confirm through the SNS API with this account's credentials (not by visiting the
        SubscribeURL): unsubscribing then needs those credentials too."""
        topic = self.config["sns_topic_arn"]
        region = topic.split(":")[3] if topic.count(":") >= 5 else None
        try:
            aws_client("sns", self.config, region).confirm_subscription(
                TopicArn=topic, Token=token, AuthenticateOnUnsubscribe="true")
        except (ClientError, BotoCoreError):
            return False
        return True
