"""Access history: who read or changed the dealer's customer records, and when, for the
dealer's auditors and admins (JSON API and portal pages). OEM staff never see it: it
names the dealer's customers. The trail itself is written by the core's audit middleware."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Template

from dealerhub.platform import audit
from dealerhub.platform.auth import AUDITOR_ROLES, auditors
from dealerhub.platform.web import register_nav
from dealerhub.tenants.customers import service
from dealerhub.tenants.web import render

Action = Literal["read", "change"]
PAGE_SIZE = 50


class TrailEntry(msgspec.Struct):
    at: datetime
    customer_id: uuid.UUID
    user_id: uuid.UUID | None
    actor: str
    action: Action
    method: str
    target: str
    status_code: int
    ip: str


class TrailPage(msgspec.Struct):
    items: list[TrailEntry]
    total: int
    page: int
    per_page: int


def _entry(row: dict) -> TrailEntry:
    action: Action = "read" if row["action"] == "GET" else "change"
    return TrailEntry(row["at"], row["customer_id"], row["user_id"], row["actor"], action,
                      row["action"], row["target"], row["status_code"], row["ip"])


async def _customer_in_dealer(tenant_id: uuid.UUID, customer_id: uuid.UUID | None) -> None:
    """Another dealer's customer is a 404, like a missing one."""
    if customer_id is not None and await service.get_customer(tenant_id, customer_id) is None:
        raise NotFoundException("no such customer")


def _day(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), UTC)
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
        """Who read (GET) or changed (POST/PUT/PATCH/DELETE) which customer record and when,
        newest first; filter by customer, user, time (`since` inclusive, `until`
        exclusive, ISO 8601) and action."""
        tenant_id = request.user.tenant_id
        await _customer_in_dealer(tenant_id, customer_id)
        found = await audit.customer_trail(
            tenant_id, customer_id=customer_id, user_id=user_id, since=since, until=until,
            action=action, page=page, per_page=per_page)
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
        last_day = _day(until, "until")
        found = await audit.customer_trail(
            tenant_id, customer_id=customer_id, user_id=user_id, since=_day(since, "since"),
            until=last_day + timedelta(days=1) if last_day else None,
            action=action if action in audit.TRAIL_ACTIONS else None,
            page=page, per_page=PAGE_SIZE)
        pages = max(1, -(-found.total // PAGE_SIZE))
        return render(request, "customers/access_history.html", customer=customer,
                      entries=[_entry(r) for r in found.rows], total=found.total,
                      page_number=page, pages=pages,
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
