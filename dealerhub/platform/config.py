"""One settings object read from the environment; a bad value stops start-up with one line."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse


class SettingsError(ValueError):
    """A configuration value is unusable; the message names the variable."""


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        raise SettingsError(
            f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}, "
            f"got {value!r}"
        )
    if parsed.scheme.startswith("postgres") and not parsed.hostname and not parsed.path.strip("/"):
        raise SettingsError(f"{name}: a PostgreSQL URL needs a host or a database name")
    return value


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name}: expected a number from {low} to {high}, got {number}")
    return number


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}: expected true or false, got {value!r}")


def _json_accounts(name: str, value: str) -> dict[str, dict[str, str]]:
    try:
        parsed = json.loads(value) if value.strip() else {}
    except ValueError:
        raise SettingsError(f"{name}: expected a JSON object, got {value[:40]!r}") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        raise SettingsError(f"{name}: expected a JSON object of channel name to settings object")
    return {str(k): {str(f): str(x) for f, x in v.items()} for k, v in parsed.items()}


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


@dataclass(frozen=True)
class Settings:
    database_url: str
    migration_database_url: str
    redis_url: str | None
    secret_key: str
    channel_key: str
    host: str
    port: int
    var_dir: Path
    allow_private_webhooks: bool
    secure_cookies: bool
    redis_namespace: str
    login_attempts_per_minute: int
    max_body_bytes: int = 1024 * 1024
    otel: dict[str, str] = field(default_factory=dict)
    oem_channel_accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    public_base_url: str = "http://127.0.0.1:8000"
    channel_send_lease_seconds: int = 30
    export_s3_bucket: str | None = None
    export_s3_endpoint_url: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgres")


def _embedded_key(var_dir: Path, name: str) -> str:
    """A random key kept under var/ so the embedded default survives restarts."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    var_dir = Path(env.get("DEALERHUB_VAR_DIR", "var")).resolve()
    database_url = _url(
        "DATABASE_URL",
        env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'dealerhub.sqlite3'}",
        DATABASE_SCHEMES,
    )
    migration_url = _url(
        "MIGRATION_DATABASE_URL",
        env.get("MIGRATION_DATABASE_URL") or database_url,
        DATABASE_SCHEMES,
    )
    if migration_url.split(":")[0] != database_url.split(":")[0]:
        raise SettingsError(
            "MIGRATION_DATABASE_URL: must use the same database kind as DATABASE_URL"
        )
    redis_url = env.get("REDIS_URL") or None
    if redis_url:
        _url("REDIS_URL", redis_url, ("redis", "rediss", "unix"))
    secret_key = env.get("SECRET_KEY") or _embedded_key(var_dir, "secret_key")
    if len(secret_key) < 32:
        raise SettingsError("SECRET_KEY: must be at least 32 characters long")
    channel_key = env.get("CHANNEL_KEY") or _embedded_key(var_dir, "channel_key")
    if len(channel_key) < 32:
        raise SettingsError("CHANNEL_KEY: must be at least 32 characters long")
    return Settings(
        database_url=database_url,
        migration_database_url=migration_url,
        redis_url=redis_url,
        secret_key=secret_key,
        channel_key=channel_key,
        host=env.get("HOST", "127.0.0.1"),
        port=_int("PORT", env.get("PORT", "8000"), 1, 65535),
        var_dir=var_dir,
        allow_private_webhooks=_bool(
            "DEALERHUB_ALLOW_PRIVATE_WEBHOOKS", env.get("DEALERHUB_ALLOW_PRIVATE_WEBHOOKS", "")
        ),
        secure_cookies=_bool(
            "DEALERHUB_SECURE_COOKIES",
            env.get("DEALERHUB_SECURE_COOKIES", "true" if env.get("SECRET_KEY") else "false"),
        ),
        login_attempts_per_minute=_int(
            "DEALERHUB_LOGIN_ATTEMPTS_PER_MINUTE",
            env.get("DEALERHUB_LOGIN_ATTEMPTS_PER_MINUTE", "20"),
            1,
            1_000_000,
        ),
        redis_namespace=env.get("DEALERHUB_REDIS_NAMESPACE", "dealerhub"),
        otel={k: v for k, v in env.items() if k.startswith("OTEL_")},
        oem_channel_accounts=_json_accounts(
            "OEM_CHANNEL_ACCOUNTS", env.get("OEM_CHANNEL_ACCOUNTS", "")
        ),
        public_base_url=_url(
            "PUBLIC_BASE_URL",
            env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
            ("http", "https"),
        ).rstrip("/"),
        channel_send_lease_seconds=_int(
            "DEALERHUB_CHANNEL_SEND_LEASE_SECONDS",
            env.get("DEALERHUB_CHANNEL_SEND_LEASE_SECONDS", "30"),
            1,
            3600,
        ),
        export_s3_bucket=env.get("EXPORT_S3_BUCKET") or None,
        export_s3_endpoint_url=(
            _url("EXPORT_S3_ENDPOINT_URL", env["EXPORT_S3_ENDPOINT_URL"], ("http", "https"))
            if env.get("EXPORT_S3_ENDPOINT_URL") else None
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
