"""Two dealers filled by the deterministic demo generator, their principals, and the values
by which a leak of one dealer's data into another principal's response is recognised.

Shared by the fuzzing and isolation suites: seeding once per run keeps both fast.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Litestar
from piccolo.conf.apps import Finder
from piccolo.table import Table

from dealerhub.platform.auth import API_KEY_SCOPES, create_api_key
from dealerhub.platform.tenancy import TenantTable, tenant_scope
from tests.conftest import DealerFixture, OemFixture, bearer_for, create_dealer, create_oem_users

SEED = 20261123
CUSTOMERS_PER_DEALER = 12
# One customer of dealer B carries values no other row in the database can contain.
MARKER = {
    "name": "Zyqvorth Leakmarker",
    "email": "zyqvorth.leakmarker@b-only.example",
    "phone": "+8613977712345",
    "vin": "LVSHFAB59PA777123",
    "plate": "沪Z7Q123",
}
# Scoring's generator writes only OEM-wide aggregates (no tenant table) and is the slowest;
# appointments come from the isolation factories, which equip the same job catalogue.
SKIPPED_HOOKS = {"dealerhub.platform.scoring.demo", "dealerhub.platform.appointments.demo"}
# Page-only path parameters (the API's have factories in tests/isolation_factories.py): the
# table whose row fills them, or a fixed valid value.
PAGE_PARAM_TABLES = {"holiday_id": "appointment_holiday", "task_id": "appointment_task",
                     "touchpoint_id": "survey_touchpoint", "object_id": "appointment_resource",
                     "staff_id": "staff"}
PAGE_PARAM_VALUES = {"kind": "resource", "action": "interim", "code": "en"}
# static files and the schema viewer itself
UNDOCUMENTED = ("/static", "/schema")
PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def tenant_tables() -> list[type[TenantTable]]:
    """Every tenant table the code declares: a table added later is covered without edits."""
    return sorted(
        (t for t in Finder().get_table_classes() if issubclass(t, TenantTable)),
        key=lambda t: t._meta.tablename,
    )


@dataclass
class Principal:
    name: str
    headers: dict[str, str]
    dealer: DealerFixture | None = None

    @property
    def is_oem(self) -> bool:
        return self.name.startswith("oem_")


@dataclass
class World:
    a: DealerFixture
    b: DealerFixture
    oem: OemFixture
    principals: list[Principal] = field(default_factory=list)
    # every tenant row id of B, per table
    b_rows: dict[str, set[str]] = field(default_factory=dict)
    # customer names, phones, e-mails, VINs, plates of B that no row of A contains
    b_pii: set[str] = field(default_factory=set)
    # the same personal values of both dealers (an OEM principal must see none)
    pii: set[str] = field(default_factory=set)
    # a value for every path parameter, made by tests/isolation_factories.py in A and in B
    a_ids: dict[str, str] = field(default_factory=dict)
    b_ids: dict[str, str] = field(default_factory=dict)

    def forbidden_for(self, principal: Principal) -> set[str]:
        """What must never appear in a response to this principal."""
        if principal.is_oem:
            return self.pii
        if principal.dealer is self.a:
            return self.b_pii | {i for ids in self.b_rows.values() for i in ids}
        return self.pii  # unauthenticated

    def leaks(self, principal: Principal, text: str) -> list[str]:
        return sorted(value for value in self.forbidden_for(principal) if value in text)


async def seed_two_dealers() -> tuple[DealerFixture, DealerFixture]:
    """Dealers A and B with the demo generator's customer base, appointments, scores,
    surveys and campaigns, plus B's marker customer."""
    from dealerhub.demo import SEED_HOOKS
    from dealerhub.platform.tables import Dealer
    from tests.tenants.factories import new_customer, new_vehicle

    a = await create_dealer(latitude=31.22, longitude=121.54)
    b = await create_dealer(latitude=31.23, longitude=121.55)
    dealers = await Dealer.objects().where(Dealer.id.is_in([a.id, b.id])).order_by(Dealer.code)
    rng = random.Random(SEED)
    for hook in SEED_HOOKS:
        if hook.__module__ not in SKIPPED_HOOKS:
            await hook(rng, dealers, CUSTOMERS_PER_DEALER)
    marker = await new_customer(b.id, name=MARKER["name"], phone=MARKER["phone"],
                                email=MARKER["email"])
    await new_vehicle(b.id, marker.id, vin=MARKER["vin"], plate=MARKER["plate"])
    return a, b


async def personal_values(dealer: DealerFixture) -> set[str]:
    """Customer names (3+ characters: two-character names recur as staff names), phones
    (E.164 and national), e-mails, VINs and plates."""
    from dealerhub.tenants.customers.tables import Customer
    from dealerhub.tenants.vehicles.tables import Vehicle

    async with tenant_scope(dealer.id, write=False):
        customers = await Customer.select_in_tenant(
            Customer.name, Customer.phone_e164, Customer.email)
        vehicles = await Vehicle.select_in_tenant(Vehicle.vin, Vehicle.plate)
    values = {c["name"] for c in customers if len(c["name"]) >= 3}
    for row in customers:
        if row["phone_e164"]:
            values |= {row["phone_e164"], row["phone_e164"].removeprefix("+86")}
        if row["email"]:
            values.add(row["email"])
    values |= {v["vin"] for v in vehicles} | {v["plate"] for v in vehicles if v["plate"]}
    return {value for value in values if value}


async def row_ids(dealer: DealerFixture) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    async with tenant_scope(dealer.id, write=False):
        for table in tenant_tables():
            rows = await table.select_in_tenant(table.id)
            found[table._meta.tablename] = {str(row["id"]) for row in rows}
    return found


async def staff_names() -> set[str]:
    from dealerhub.platform.tables import AppUser

    return {row["display_name"] for row in await AppUser.select(AppUser.display_name)}


async def path_values(dealer: DealerFixture) -> dict[str, str]:
    from tests.isolation_factories import PATH_PARAM_FACTORIES

    values = {name: str(await make(dealer)) for name, make in PATH_PARAM_FACTORIES.items()}
    return values | PAGE_PARAM_VALUES | {"dealer_id": str(dealer.id)}


async def page_path_values(dealer: DealerFixture) -> dict[str, str]:
    rows = await row_ids(dealer)
    return {param: min(rows[table]) for param, table in PAGE_PARAM_TABLES.items()}


async def fill_remaining(dealer: DealerFixture, ids: dict[str, str]) -> None:
    """Rows for the tenant tables neither the demo generator nor the path factories write:
    through the owning service where one exists, otherwise a plain row."""
    from datetime import date, time, timedelta
    from zoneinfo import ZoneInfo

    from dealerhub.channels.credentials.service import save_account
    from dealerhub.channels.webhooks import service as webhooks
    from dealerhub.channels.webhooks.tables import InboundReceipt, WebhookAttempt
    from dealerhub.platform.appointments import service as appointments
    from dealerhub.platform.appointments._reminders import open_reschedule_task
    from dealerhub.platform.appointments.schemas import AppointmentCreate, HolidayCreate
    from dealerhub.platform.campaigns.due_lists.service import set_declined_work_days
    from dealerhub.tenants.imports.service import import_rows
    from dealerhub.tenants.vehicles.tables import Vehicle

    await appointments.add_holiday(dealer.id, HolidayCreate(day=date(2031, 1, 1), name="元旦"))
    await set_declined_work_days(dealer.id, 21)
    await save_account(dealer.id, "webhook", enabled=True, sender="", settings={
        "url": "https://isolation.example/gateway", "secret": "whsec_" + "A" * 32,
        "medium": "sms"})
    bad_row = {"external_id": "BAD", "name": "坏行", "phone": "nonsense"}
    await import_rows(dealer.id, "customers", [bad_row], None)
    source = await webhooks.create_source(dealer.id, "isolation", "other")
    async with tenant_scope(dealer.id):
        vehicle = await Vehicle.objects_in_tenant().first()
        await open_reschedule_task(uuid.UUID(ids["appointment_id"]), "isolation", None)
        await WebhookAttempt.insert_in_tenant(WebhookAttempt(
            delivery_id=uuid.UUID(ids["delivery_id"]), endpoint_id=uuid.UUID(ids["endpoint_id"]),
            status_code=200))
        await InboundReceipt.insert_in_tenant(InboundReceipt(
            source_id=source.row.id, webhook_id="msg_isolation", event_type="isolation"))
    day = date.today() + timedelta(days=8)
    starts = datetime.combine(day, time(11), tzinfo=ZoneInfo("Asia/Shanghai"))
    await appointments.book(dealer.id, AppointmentCreate(
        vehicle_id=vehicle.id, starts_at=starts, job_codes=["OIL"]), channel="api",
        actor="isolation", idempotency_key=f"isolation-{dealer.code}")


async def build_world(client: Any) -> World:
    a, b = await seed_two_dealers()
    world = World(a, b, await create_oem_users())
    world.a_ids, world.b_ids = await path_values(a), await path_values(b)
    await fill_remaining(a, world.a_ids)
    await fill_remaining(b, world.b_ids)
    world.a_ids |= await page_path_values(a)
    world.b_ids |= await page_path_values(b)
    a_pii, b_pii = await personal_values(a), await personal_values(b)
    people = await staff_names()
    world.pii = {v for v in a_pii | b_pii if v not in people}
    world.b_pii = {v for v in b_pii - a_pii if not any(v in other for other in a_pii | people)}
    world.b_rows = await row_ids(b)
    for role, email in a.emails.items():
        world.principals.append(Principal(role, await bearer_for(client, email), a))
    issued = await create_api_key(a.id, "security", sorted(API_KEY_SCOPES), None)
    world.principals.append(
        Principal("api_key", {"Authorization": f"Bearer {issued.plaintext}"}, a))
    for role, email in world.oem.emails.items():
        world.principals.append(Principal(role, await bearer_for(client, email)))
    world.principals.append(Principal("anonymous", {}))
    return world


def fill_path(path: str, ids: dict[str, str]) -> str:
    return PATH_PARAM.sub(lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def table_of(name: str) -> type[Table]:
    return next(t for t in tenant_tables() if t._meta.tablename == name)


def full_schema(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI schema with the page routes included (they are left out of the
    published one): page handlers take path and query parameters and forms too.

    Uses Litestar's schema plugin internals (pinned by uv.lock): a page route is added to
    the routes the plugin documents and the cached document is dropped."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.routes import HTTPRoute

    plugin = app.plugins.get(OpenAPIPlugin)
    for route in app.routes:
        if isinstance(route, HTTPRoute) and not route.path.startswith(UNDOCUMENTED):
            for handler in route.route_handlers:
                handler._resolved_include_in_schema = True
            plugin.included_routes[route.path] = route
    plugin._openapi = None
    plugin._openapi_schema = None
    return plugin.provide_openapi_schema()
