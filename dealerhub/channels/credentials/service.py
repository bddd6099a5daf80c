"""Per-dealer channel accounts (encrypted), falling back to the OEM's shared accounts.

`accounts_by_medium()` is what the send pipeline routes with: for each medium, the
accounts that can carry it, the dealer's own first, the OEM's shared one next, and the
console channel last when nothing else can (the embedded default).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dealerhub.channels.credentials import crypto
from dealerhub.channels.credentials.tables import ChannelAccount
from dealerhub.channels.plugin import Channel, channel_class, discovered
from dealerhub.platform.config import get_settings
from dealerhub.platform.tenancy import tenant_scope

CONSOLE = "console"


class AccountInvalid(ValueError):
    """A channel account setting is unusable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Account:
    channel: str
    source: str  # "dealer" | "oem" | "embedded"
    sender: str
    config: dict[str, str]

    def plugin(self) -> Channel:
        cls = channel_class(self.channel)
        if cls is None:
            raise AccountInvalid("channel", f"channel {self.channel!r} is not installed")
        return cls(self.config)


@dataclass(frozen=True)
class AccountView:
    """What the settings page shows: never a secret."""

    channel: str
    enabled: bool
    sender: str
    configured_fields: list[str]
    updated_at: datetime | None
    id: uuid.UUID | None = None


def oem_account(channel: str) -> Account | None:
    config = get_settings().oem_channel_accounts.get(channel)
    if not config or channel_class(channel) is None:
        return None
    return Account(channel, "oem", config.get("sender", ""), dict(config))


def _to_account(row: ChannelAccount) -> Account:
    return Account(row.channel, "dealer", row.sender, crypto.decrypt(row.secret_config))


async def dealer_accounts() -> list[ChannelAccount]:
    """Inside a tenant scope: the dealer's enabled accounts, by priority."""
    return await ChannelAccount.objects_in_tenant().where(
        ChannelAccount.enabled == True  # noqa: E712
    ).order_by(ChannelAccount.priority)


async def accounts_by_medium() -> dict[str, list[Account]]:
    """Inside a tenant scope: medium → accounts able to carry it, best first."""
    result: dict[str, list[Account]] = {}
    for row in await dealer_accounts():
        cls = channel_class(row.channel)
        if cls is not None:
            account = _to_account(row)
            result.setdefault(cls.medium_for(account.config), []).append(account)
    mine = {a.channel for accounts in result.values() for a in accounts}
    for name, cls in discovered().items():
        account = oem_account(name)
        if account is not None and name not in mine:
            result.setdefault(cls.medium_for(account.config), []).append(account)
    return result


async def account_for(channel: str) -> Account | None:
    """Inside a tenant scope: the account a message on `channel` is sent with."""
    if channel == CONSOLE:
        return Account(CONSOLE, "embedded", "", {})
    row = await ChannelAccount.objects_in_tenant().where(
        ChannelAccount.channel == channel
    ).first()
    if row is not None and row.enabled:
        return _to_account(row)
    return oem_account(channel)


def _validated(channel: str, settings: dict[str, Any], previous: dict[str, str]) -> dict[str, str]:
    cls = channel_class(channel)
    if cls is None:
        raise AccountInvalid("channel", f"channel {channel!r} is not installed")
    known = {f.name: f for f in cls.config_fields}
    for key in settings:
        if key not in known:
            raise AccountInvalid(f"settings.{key}", f"{channel} has no setting {key!r}")
    merged = dict(previous)
    for key, value in settings.items():
        text = str(value).strip()
        if text or not known[key].secret:  # a blank secret keeps the stored one
            merged[key] = text
    for field in cls.config_fields:
        if field.required and not merged.get(field.name):
            raise AccountInvalid(f"settings.{field.name}", f"{field.name} is required")
    return merged


async def list_accounts(tenant_id: uuid.UUID) -> list[AccountView]:
    async with tenant_scope(tenant_id, write=False):
        rows = await ChannelAccount.objects_in_tenant().order_by(ChannelAccount.priority)
    return [AccountView(r.channel, r.enabled, r.sender, sorted(crypto.decrypt(r.secret_config)),
                        r.updated_at, r.id) for r in rows]


async def save_account(
    tenant_id: uuid.UUID, channel: str, *, enabled: bool, sender: str,
    settings: dict[str, Any], priority: int = 100,
) -> AccountView:
    """Create or update the dealer's account for a channel; secrets are stored encrypted."""
    async with tenant_scope(tenant_id):
        row = await ChannelAccount.objects_in_tenant().where(
            ChannelAccount.channel == channel
        ).first()
        previous = crypto.decrypt(row.secret_config) if row else {}
        merged = _validated(channel, settings, previous)
        token = crypto.encrypt(merged)
        now = datetime.now(UTC)
        if row is None:
            row = ChannelAccount(channel=channel, enabled=enabled, sender=sender.strip(),
                                 secret_config=token, priority=priority, updated_at=now)
            await ChannelAccount.insert_in_tenant(row)
        else:
            await ChannelAccount.update_in_tenant({
                ChannelAccount.enabled: enabled, ChannelAccount.sender: sender.strip(),
                ChannelAccount.secret_config: token, ChannelAccount.priority: priority,
                ChannelAccount.updated_at: now,
            }).where(ChannelAccount.id == row.id)
    return AccountView(channel, enabled, sender.strip(), sorted(merged), now, row.id)


async def rotate_keys(tenant_id: uuid.UUID) -> int:
    """Re-encrypt every stored account with the newest CHANNEL_KEY."""
    async with tenant_scope(tenant_id):
        rows = await ChannelAccount.objects_in_tenant()
        for row in rows:
            await ChannelAccount.update_in_tenant(
                {ChannelAccount.secret_config: crypto.rotate(row.secret_config)}
            ).where(ChannelAccount.id == row.id)
    return len(rows)
