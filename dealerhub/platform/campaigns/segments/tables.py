"""Saved segments: a name and the JSON definition the builder produced."""

from __future__ import annotations

from piccolo.columns import JSONB, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class Segment(TenantTable, tablename="campaign_segment"):
    name = Varchar(length=100)
    definition = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())
