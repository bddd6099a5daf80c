"""The channel plugin API.

A channel is a class registered under the entry-point group `dealerhub.channels`. It sends
one rendered message and returns the provider's id, and it verifies and parses its
provider's callbacks. Plugins never see the database: the send pipeline decides who gets
what, on which channel, before any plugin is called.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar
from urllib.parse import parse_qsl

ENTRY_POINT_GROUP = "dealerhub.channels"
MEDIA = ("sms", "email", "voice", "whatsapp", "wechat", "webhook")
PROVIDER_TIMEOUT_SECONDS = 10.0


class ChannelError(Exception):
    """A send did not happen; the message is safe to show to a dealer admin."""


class PermanentFailure(ChannelError):
    """This channel will never deliver this message (bad number, rejected): try the next one."""


class TemporaryFailure(ChannelError):
    """Try again later on the same channel (timeout, 5xx, throttled)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CallbackRejected(Exception):
    """The callback is unsigned, wrongly signed or malformed; nothing is changed."""


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str
    secret: bool = False
    required: bool = True


@dataclass(frozen=True)
class OutboundMessage:
    """What a channel sends: already rendered, already addressed."""

    message_id: str
    tenant_id: str
    to: str
    body: str
    subject: str | None = None
    html: str | None = None
    sender: str | None = None
    callback_url: str | None = None
    unsubscribe_url: str | None = None
    template_key: str = ""
    locale: str = "zh-CN"
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundRequest:
    """A provider's callback as the plugin sees it: no framework types."""

    url: str
    method: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class CallbackEvent:
    """One fact from a provider: a status change of a message we sent, or a reply."""

    kind: str  # "status" | "reply" | "complaint" | "subscribe" (text: the handshake token)
    provider_id: str | None = None
    status: str | None = None  # delivered | failed | bounced | sent
    from_address: str | None = None
    text: str | None = None
    detail: str = ""
    at: datetime | None = None
    message_id: str | None = None  # ours, when the provider echoes it (a signed callback URL)


class Channel(ABC):
    """Base class of every channel plugin; `config` holds the decrypted account settings."""

    name: ClassVar[str] = ""
    medium: ClassVar[str] = "sms"
    label: ClassVar[dict[str, str]] = {}
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    sender_field: ClassVar[str | None] = None

    def __init__(self, config: dict[str, str]) -> None:
        missing = [f.name for f in self.config_fields if f.required and not config.get(f.name)]
        if missing:
            raise ChannelError(f"{self.name}: missing setting {', '.join(missing)}")
        self.config = config

    @classmethod
    def medium_for(cls, config: dict[str, str]) -> str:
        """The kind of address this account carries (a gateway plugin may let it be set)."""
        return cls.medium

    @abstractmethod
    async def send(self, message: OutboundMessage) -> str:
        """Send one message; return the provider's id. Raise Permanent/TemporaryFailure."""

    def verify_callback(self, request: InboundRequest) -> None:
        """Raise CallbackRejected unless the provider signed this request."""
        raise CallbackRejected(f"{self.name} takes no callbacks")

    def parse_callback(self, request: InboundRequest) -> list[CallbackEvent]:
        """The facts in a verified callback."""
        return []

    def answer_handshake(self, request: InboundRequest) -> str | None:
        """Answer a provider's check of the callback URL (a GET: WeChat's `echostr`) once
        it is verified; None when this channel has no such check."""
        return None

    def confirm_subscription(self, token: str) -> bool:
        """Confirm a provider's subscription handshake (SNS's Token); False when it did not
        go through (the provider sends it again). Most channels have none."""
        return False

    def callback_response(self) -> tuple[str, str]:
        """Body and media type to answer a verified callback with."""
        return "", "text/plain"


@cache
def discovered() -> dict[str, type[Channel]]:
    """Every installed channel, built-in or third-party, by entry-point name."""
    found: dict[str, type[Channel]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = point.load()
        except Exception:  # a broken third-party plugin must not take the platform down
            continue
        if isinstance(cls, type) and issubclass(cls, Channel):
            cls.name = point.name
            found[point.name] = cls
    return found


def channel_class(name: str) -> type[Channel] | None:
    return discovered().get(name)


def label_of(cls: type[Channel], locale: str) -> str:
    return cls.label.get(locale) or cls.label.get("en") or cls.name
