"""Signed, expiring links for car owners (`/c/...`): no login, tamper-evident.

A token names its purpose, so a survey link cannot open a booking page.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dealerhub.platform.config import get_settings


class LinkInvalid(Exception):
    """The token was tampered with, made for another purpose, or is not a token."""


class LinkExpired(LinkInvalid):
    """The token was genuine but is past its lifetime."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=f"dealerhub-link:{purpose}")


def sign_link(purpose: str, data: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(data)


def read_link(purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkExpired("this link has expired") from None
    except BadSignature:
        raise LinkInvalid("this link is not valid") from None
    if not isinstance(data, dict):
        raise LinkInvalid("this link is not valid")
    return data
