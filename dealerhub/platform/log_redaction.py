"""Personal data and secrets never reach a log line, whoever logs it.

Installed as the log record factory, so every record (ours, uvicorn's access log, the
provider SDKs', Dramatiq's) is redacted before any handler sees it: phone numbers keep
their last four digits, e-mail addresses their domain; bearer credentials, API keys, signed
tokens (customer links, bearer tokens) and secret-looking query parameters are replaced.
Only records that pass the level check are built, so quiet loggers cost nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization header values, with or without the scheme word.
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), r"\1 [redacted]"),
    # dealer API keys: dhk_<tenant hex><prefix><secret>
    (re.compile(r"\bdhk_[\w-]+"), "dhk_[redacted]"),
    # itsdangerous tokens (signed customer links, bearer tokens): payload.timestamp.signature
    (re.compile(r"(?<![\w-])[\w-]{8,}\.[\w-]{4,}\.[\w-]{16,}"), "[signed-token]"),
    # secret-looking parameters in URLs, query strings and key=value text
    (
        re.compile(
            r"(?i)\b(access_token|token|auth_token|api_key|apikey|secret|password|"
            r"signature|sig|key)=([^&\s\"',;]+)"
        ),
        r"\1=[redacted]",
    ),
    # e-mail addresses (also URL-encoded): the domain stays, useful for a provider problem
    (re.compile(r"[\w.+%-]+(?:@|%40)([\w-]+(?:\.[\w-]+)+)"), r"***@\1"),
    # phone numbers in E.164 (also URL-encoded) and mainland mobiles: the last four stay
    (re.compile(r"(?<![\w+])(?:\+|%2B)\d{3,11}(\d{4})(?!\d)"), r"+*******\1"),
    (re.compile(r"(?<![\w.-])1[3-9]\d{5}(\d{4})(?![\w-])"), r"*******\1"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    cleaned = redact(text)
    return value if cleaned == text and not isinstance(value, str) else cleaned


def redact_record(record: logging.LogRecord) -> None:
    """Redact message, arguments and traceback in place; argument positions are kept,
    because some formatters (uvicorn's access log) unpack `record.args`."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Wrap the current record factory once per process."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
