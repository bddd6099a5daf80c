"""Customer request/response types and the contact profile other components read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import msgspec

from dealerhub.platform.web.api import StrictStruct

GENDERS = ("male", "female")
CUSTOMER_TYPES = ("value", "convenience", "relationship")
CATEGORIES = ("potential", "won", "lost", "complaint")


@dataclass(frozen=True)
class ContactProfile:
    """What a channel or a reminder needs to contact a customer, and nothing more."""

    customer_id: uuid.UUID
    name: str
    phone_e164: str | None
    email: str | None
    wechat_id: str | None
    preferred_channel: str | None  # "sms"|"email"|"voice"|"wechat"|"whatsapp"|"letter"
    customer_type: str | None  # "value"|"convenience"|"relationship"
    locale: str  # "zh-CN"|"en"
    consents: dict[str, dict[str, bool]]  # purpose ("service"|"marketing") -> channel -> granted
    erased: bool


class CustomerCreate(StrictStruct):
    name: str
    external_id: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat_id: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    city: str | None = None
    district: str | None = None
    occupation: str | None = None
    preferred_channel: str | None = None
    customer_type: str | None = None
    category: str | None = None
    referred_by_customer_id: uuid.UUID | None = None
    locale: str | None = None
    home_latitude: float | None = None
    home_longitude: float | None = None


class CustomerUpdate(StrictStruct):
    """Only the fields sent are changed; send null to clear one."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    external_id: str | msgspec.UnsetType | None = msgspec.UNSET
    phone: str | msgspec.UnsetType | None = msgspec.UNSET
    email: str | msgspec.UnsetType | None = msgspec.UNSET
    wechat_id: str | msgspec.UnsetType | None = msgspec.UNSET
    gender: str | msgspec.UnsetType | None = msgspec.UNSET
    birth_date: date | msgspec.UnsetType | None = msgspec.UNSET
    city: str | msgspec.UnsetType | None = msgspec.UNSET
    district: str | msgspec.UnsetType | None = msgspec.UNSET
    occupation: str | msgspec.UnsetType | None = msgspec.UNSET
    preferred_channel: str | msgspec.UnsetType | None = msgspec.UNSET
    customer_type: str | msgspec.UnsetType | None = msgspec.UNSET
    category: str | msgspec.UnsetType | None = msgspec.UNSET
    referred_by_customer_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    locale: str | msgspec.UnsetType | None = msgspec.UNSET
    home_latitude: float | msgspec.UnsetType | None = msgspec.UNSET
    home_longitude: float | msgspec.UnsetType | None = msgspec.UNSET


class TeamRead(msgspec.Struct):
    advisor_staff_id: uuid.UUID | None
    sales_staff_id: uuid.UUID | None
    insurance_staff_id: uuid.UUID | None
    set_by_admin: bool


class TeamUpdate(StrictStruct):
    advisor_staff_id: uuid.UUID | None = None
    sales_staff_id: uuid.UUID | None = None
    insurance_staff_id: uuid.UUID | None = None


class CustomerRead(msgspec.Struct):
    id: uuid.UUID
    external_id: str | None
    name: str
    phone_e164: str | None
    email: str | None
    wechat_id: str | None
    gender: str | None
    birth_date: date | None
    city: str | None
    district: str | None
    occupation: str | None
    preferred_channel: str | None
    customer_type: str | None
    category: str
    referred_by_customer_id: uuid.UUID | None
    locale: str
    home_latitude: float | None
    home_longitude: float | None
    referral_count: int
    visits_12m: int
    spend_12m: Decimal
    last_visit_at: datetime | None
    after_sales_loyal: bool
    sales_loyal: bool
    quality_score: int
    team: TeamRead
    erased: bool
    created_at: datetime


class CustomerSummary(msgspec.Struct):
    id: uuid.UUID
    name: str
    phone_e164: str | None
    category: str
    after_sales_loyal: bool
    last_visit_at: datetime | None
    plates: list[str]


class CustomerPage(msgspec.Struct):
    items: list[CustomerSummary]
    total: int
    page: int
    per_page: int


class ConsentChange(StrictStruct):
    purpose: str
    channel: str
    granted: bool
    source: str = "api"


class ConsentRead(msgspec.Struct):
    purpose: str
    channel: str
    granted: bool
    changed_at: datetime
    source: str
