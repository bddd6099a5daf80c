"""A dealer's own channel accounts: sender identity in clear, credentials encrypted."""

from __future__ import annotations

from piccolo.columns import Boolean, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class ChannelAccount(TenantTable, tablename="channel_account"):
    channel = Varchar(length=64)
    enabled = Boolean(default=True)
    priority = SmallInt(default=100)
    sender = Varchar(length=200, default="")
    secret_config = Text(default="")  # Fernet token of a JSON object
    updated_at = Timestamptz(default=TimestamptzNow())
