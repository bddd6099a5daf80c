"""A dealer's customers, their consent per purpose and channel, and their derived facts."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    UUID,
    Boolean,
    Date,
    Float,
    Integer,
    Numeric,
    SmallInt,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.tenancy import TenantTable


class Customer(TenantTable, tablename="customer"):
    external_id = Varchar(length=64, null=True, default=None)
    name = Varchar(length=100)
    phone_e164 = Varchar(length=20, null=True, default=None)
    # the E.164 number reversed, so "phone ends with" is an indexed prefix search
    phone_reversed = Varchar(length=20, null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    wechat_id = Varchar(length=64, null=True, default=None)
    gender = Varchar(length=8, null=True, default=None)
    birth_date = Date(null=True, default=None)
    city = Varchar(length=64, null=True, default=None)
    district = Varchar(length=64, null=True, default=None)
    occupation = Varchar(length=64, null=True, default=None)
    preferred_channel = Varchar(length=16, null=True, default=None)
    customer_type = Varchar(length=16, null=True, default=None)
    category = Varchar(length=16, default="potential")
    referred_by_customer_id = UUID(null=True, default=None)
    locale = Varchar(length=8, default="zh-CN")
    # where the customer's car is picked up (home or work): the 10 km free pick-up rule
    home_latitude = Float(null=True, default=None)
    home_longitude = Float(null=True, default=None)
    # derived facts, refreshed on every write and import (see customers/facts.py)
    referral_count = Integer(default=0)
    visits_12m = Integer(default=0)
    spend_12m = Numeric(digits=(12, 2), default=Decimal("0"))
    last_visit_at = Timestamptz(null=True, default=None)
    after_sales_loyal = Boolean(default=False)
    sales_loyal = Boolean(default=False)
    quality_score = SmallInt(default=0)
    # the dedicated team
    advisor_staff_id = UUID(null=True, default=None)
    sales_staff_id = UUID(null=True, default=None)
    insurance_staff_id = UUID(null=True, default=None)
    team_set_by_admin = Boolean(default=False)
    erased_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerConsent(TenantTable, tablename="customer_consent"):
    """The current state of one (purpose, channel) consent: granted or withdrawn, when, how."""

    customer_id = UUID()
    purpose = Varchar(length=16)
    channel = Varchar(length=16)
    granted = Boolean(default=False)
    changed_at = Timestamptz(default=TimestamptzNow())
    source = Varchar(length=64, default="")
