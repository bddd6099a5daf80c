"""Access history: who read, changed or listed the dealer's customer records, and when,
for the dealer's auditors and admins (JSON API and portal pages). OEM staff never see it:
it names the dealer's customers. The trail itself is written by the core's audit
middleware. Days and times are the dealer's local ones (its time zone), as its staff and
auditors count them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Template

from dealerhub.platform import audit
from dealerhub.platform.auth import AUDITOR_ROLES, auditors
from dealerhub.platform.directory import dealer_zone
from dealerhub.platform.web import register_nav
from dealerhub.tenants.customers import service
from dealerhub.tenants.web import page_count, render

Action = Literal["read", "change", "list"]
PAGE_SIZE = 50


class TrailEntry(msgspec.Struct):
    """One request. A list read (`action` "list") showed `customers_shown` customers; its
    `customer_id` is the customer asked about, null when the trail is not for one."""

    at: datetime
    customer_id: uuid.UUID | None
    user_id: uuid.UUID | None
    actor: str
    action: Action
    method: str
    target: str
    query: str
    status_code: int
    ip: str
    customers_shown: int | None


class TrailPage(msgspec.Struct):
    items: list[TrailEntry]
    total: int
    page: int
    per_page: int


def _entry(row: dict) -> TrailEntry:
    action: Action = ("list" if row["shown"] is not None
                      else "read" if row["action"] == "GET" else "change")
    return TrailEntry(row["at"], row["customer_id"], row["user_id"], row["actor"], action,
                      row["action"], row["target"], row["query"], row["status_code"],
                      row["ip"], row["shown"])


async def _customer_in_dealer(tenant_id: uuid.UUID, customer_id: uuid.UUID | None) -> None:
    """Another dealer's customer is a 404, like a missing one."""
    if customer_id is not None and await service.get_customer(tenant_id, customer_id) is None:
        raise NotFoundException("no such customer")


def _local(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time without an offset is the dealer's local time."""
    return at.replace(tzinfo=zone) if at is not None and at.tzinfo is None else at


def _day(value: str, name: str, zone: ZoneInfo) -> datetime | None:
    """The start of a local day (YYYY-MM-DD) in the dealer's time zone."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), zone)
    except ValueError:
        raise ValidationException(
            f"{name}: not a date (YYYY-MM-DD)",
            extra=[{"key": name, "message": "not a date (YYYY-MM-DD)"}],
        ) from None


class AccessHistoryApiController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [auditors]

    @get("/customer-access")
    async def customer_access(
        self,
        request: Request,
        customer_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: Action | None = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Parameter(ge=1, le=200)] = PAGE_SIZE,
    ) -> TrailPage:
        """Who read (GET), changed (POST/PUT/PATCH/DELETE) or listed (a search, board or
        queue showing many customers) which customer record and when, newest first; filter
        by customer (its list reads included), user, time (`since` inclusive, `until`
        exclusive, ISO 8601; without an offset, the dealer's local time) and action."""
        tenant_id = request.user.tenant_id
        await _customer_in_dealer(tenant_id, customer_id)
        zone = await dealer_zone(tenant_id)
        found = await audit.customer_trail(
            tenant_id, customer_id=customer_id, user_id=user_id, since=_local(since, zone),
            until=_local(until, zone), action=action, page=page, per_page=per_page)
        return TrailPage([_entry(r) for r in found.rows], found.total, page, per_page)


class AccessHistoryPageController(Controller):
    guards = [auditors]
    include_in_schema = False

    async def _render(self, request: Request, customer_id: uuid.UUID | None, user: str,
                      action: str, since: str, until: str, page: int) -> Template:
        tenant_id = request.user.tenant_id
        customer = None
        if customer_id is not None:
            customer = await service.get_customer(tenant_id, customer_id)
            if customer is None:
                raise NotFoundException("no such customer")
        try:
            user_id = uuid.UUID(user) if user else None
        except ValueError:
            raise ValidationException(
                "user: not a user id", extra=[{"key": "user", "message": "not a user id"}]
            ) from None
        zone = await dealer_zone(tenant_id)
        last_day = _day(until, "until", zone)
        found = await audit.customer_trail(
            tenant_id, customer_id=customer_id, user_id=user_id,
            since=_day(since, "since", zone),
            until=last_day + timedelta(days=1) if last_day else None,
            action=action if action in audit.TRAIL_ACTIONS else None,
            page=page, per_page=PAGE_SIZE)
        return render(request, "customers/access_history.html", customer=customer,
                      entries=[_entry(r) for r in found.rows], total=found.total,
                      page_number=page, pages=page_count(found.total, PAGE_SIZE), zone=zone,
                      filters={"user": user, "action": action, "since": since, "until": until})

    @get("/access-history")
    async def all_customers(self, request: Request, user: str = "", action: str = "",
                            since: str = "", until: str = "",
                            page: Annotated[int, Parameter(ge=1, le=100_000)] = 1) -> Template:
        return await self._render(request, None, user, action, since, until, page)

    @get("/customers/{customer_id:uuid}/access-history")
    async def one_customer(self, request: Request, customer_id: uuid.UUID, user: str = "",
                           action: str = "", since: str = "", until: str = "",
                           page: Annotated[int, Parameter(ge=1, le=100_000)] = 1) -> Template:
        return await self._render(request, customer_id, user, action, since, until, page)


register_nav("dealer", "/access-history", "Access history", AUDITOR_ROLES, order=950)
