"""The core's tables: the tenant registry (regions, dealers), users, roles, API keys,
audit log and the events outbox.

Regions and dealers sit in the core rather than in `tenants/` because users, API keys and
the scheduler need the tenant registry and the core imports no component.
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable


class Region(PlatformTable, tablename="region"):
    code = Varchar(length=16, unique=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100)


class Dealer(PlatformTable, tablename="dealer"):
    """A dealership: one tenant."""

    code = Varchar(length=16, unique=True)
    name = Varchar(length=200)
    region = ForeignKey(references=Region, null=False)
    city = Varchar(length=100)
    time_zone = Varchar(length=64, default="Asia/Shanghai")
    status = Varchar(length=16, default="active")
    tier = Varchar(length=16, default="standard")
    size_band = Varchar(length=16, default="medium")
    latitude = Float(null=True, default=None)
    longitude = Float(null=True, default=None)


class Role(PlatformTable, tablename="role"):
    key = Varchar(length=32, unique=True)
    scope = Varchar(length=8)
    name_zh = Varchar(length=64)
    name_en = Varchar(length=64)


class AppUser(PlatformTable, tablename="app_user"):
    """A person who signs in: OEM staff (no dealer) or a dealer's staff (one dealer)."""

    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=200)
    password_hash = Text()
    role = Varchar(length=32)
    dealer = ForeignKey(references=Dealer, null=True, default=None)
    region = ForeignKey(references=Region, null=True, default=None)
    locale = Varchar(length=8, default="zh-CN")
    is_active = Boolean(default=True)
    failed_logins = SmallInt(default=0)
    locked_until = Timestamptz(null=True, default=None)
    session_version = Integer(default=1)
    last_login_at = Timestamptz(null=True, default=None)


class ApiKey(TenantTable, tablename="api_key"):
    """A dealer's integration key: shown once, stored as a hash, scoped, revocable."""

    name = Varchar(length=100)
    prefix = Varchar(length=16)
    key_hash = Varchar(length=64)
    scopes = JSONB(default=[])
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class AuditLog(PlatformTable, tablename="audit_log"):
    """Who did what, where and when. OEM actions have no tenant, so `tenant_id` is nullable.
    `customer_id` names the customer record a request read or changed (access history); a
    list read (a search, a board, a queue) has none but `shown`, the number of customers it
    showed, each linked by an `AuditCustomerShown` row. `query` is the request's query
    string with phone numbers and e-mail addresses masked as in the logs."""

    at = Timestamptz(default=TimestamptzNow())
    user_id = UUID(null=True, default=None)
    actor = Varchar(length=254, default="")
    tenant_id = UUID(null=True, default=None)
    action = Varchar(length=16)
    target = Varchar(length=500)
    status_code = SmallInt()
    ip = Varchar(length=64, default="")
    customer_id = UUID(null=True, default=None)
    query = Varchar(length=500, default="")
    shown = Integer(null=True, default=None)


class AuditCustomerShown(PlatformTable, tablename="audit_customer_shown"):
    """One customer a list read showed: lets "who saw this customer" find list reads through
    the index (tenant_id, customer_id, created_at) as cheaply as single reads; `created_at`
    is the read's `at`. Rows are narrow and numbered (not a UUID key), because a search
    writes one per customer on the page."""

    id = BigSerial(primary_key=True)
    audit_id = UUID()
    tenant_id = UUID()
    customer_id = UUID()


class EventOutbox(PlatformTable, tablename="event_outbox"):
    """Domain events written in the same transaction as the change; a relay publishes them.

    Events carry ids, never personal data, so the relay may read them across tenants.
    """

    tenant_id = UUID(null=True, default=None)
    event_type = Varchar(length=64)
    payload = JSONB(default={})
    occurred_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)


class ScheduledRun(PlatformTable, tablename="scheduled_run"):
    """When the scheduler last started each task of a minute's cadence or more, so a restart
    does not run the nightly work again (the in-memory clock starts every task at once)."""

    task = Varchar(length=100, unique=True)
    last_started_at = Timestamptz()


class EventConsumption(PlatformTable, tablename="event_consumption"):
    """One row per (consumer, event) handled: what makes at-least-once delivery idempotent."""

    consumer = Varchar(length=100)
    event_id = UUID()
