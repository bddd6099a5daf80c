"""Channel secrets are encrypted at rest with Fernet; CHANNEL_KEY may list several keys
(comma-separated, newest first) so keys can be rotated with MultiFernet."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dealerhub.platform.config import get_settings


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


@cache
def _cipher(channel_key: str) -> MultiFernet:
    return MultiFernet([_fernet(part.strip()) for part in channel_key.split(",") if part.strip()])


def cipher() -> MultiFernet:
    return _cipher(get_settings().channel_key)


def encrypt(values: dict[str, Any]) -> str:
    return cipher().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(cipher().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("channel settings cannot be decrypted with CHANNEL_KEY") from None


def rotate(token: str) -> str:
    return cipher().rotate(token.encode()).decode()
