"""Customers in the JSON API and the dealer portal: search, the 360 view, forms, consent,
team, and the PIPL export and erasure."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Redirect, Response, Template

from dealerhub.platform.audit import AUDIT_READS, note_customer, note_customers_shown
from dealerhub.platform.auth import DEALER_ROLES, CurrentUser, dealer_admin_only
from dealerhub.platform.web import found, register_nav, register_tile
from dealerhub.tenants.customers import privacy, service
from dealerhub.tenants.customers import tasks as _nightly  # noqa: F401 - registers the refresh
from dealerhub.tenants.customers.schemas import (
    CATEGORIES,
    CUSTOMER_TYPES,
    GENDERS,
    ConsentChange,
    ConsentRead,
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerSummary,
    CustomerUpdate,
    TeamRead,
    TeamUpdate,
)
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.customers.timeline import TimelineEntry, timeline
from dealerhub.tenants.fields import CHANNELS, LOCALES, PURPOSES, InvalidInput
from dealerhub.tenants.repair_orders.service import declined_work
from dealerhub.tenants.staff.service import list_staff
from dealerhub.tenants.vehicles.service import list_vehicles_for_customer
from dealerhub.tenants.web import (
    PAGE_SIZE,
    api_read,
    api_write,
    dealer_pages,
    form_data,
    form_errors,
    input_errors,
    int_arg,
    page_count,
    render,
    validation_error,
)

FORM_FIELDS = ("name", "external_id", "phone", "email", "wechat_id", "gender", "birth_date",
               "city", "district", "occupation", "preferred_channel", "customer_type",
               "category", "locale", "home_latitude", "home_longitude")


def customer_read(row: Customer) -> CustomerRead:
    return CustomerRead(
        id=row.id, external_id=row.external_id, name=row.name, phone_e164=row.phone_e164,
        email=row.email, wechat_id=row.wechat_id, gender=row.gender, birth_date=row.birth_date,
        city=row.city, district=row.district, occupation=row.occupation,
        preferred_channel=row.preferred_channel, customer_type=row.customer_type,
        category=row.category, referred_by_customer_id=row.referred_by_customer_id,
        locale=row.locale, home_latitude=row.home_latitude, home_longitude=row.home_longitude,
        referral_count=row.referral_count, visits_12m=row.visits_12m,
        spend_12m=Decimal(str(row.spend_12m or 0)), last_visit_at=row.last_visit_at,
        after_sales_loyal=row.after_sales_loyal, sales_loyal=row.sales_loyal,
        quality_score=row.quality_score,
        team=TeamRead(row.advisor_staff_id, row.sales_staff_id, row.insurance_staff_id,
                      row.team_set_by_admin),
        erased=row.erased_at is not None, created_at=row.created_at,
    )


async def _export_response(user: CurrentUser, customer_id: uuid.UUID) -> Response:
    document = found(await privacy.export_customer(user.tenant_id, customer_id,
                                                   actor_id=user.id, actor=user.email),
                     "customer")
    return Response(privacy.export_bytes(document), media_type="application/json",
                    headers={"content-disposition": "attachment; filename="
                             + privacy.export_filename(customer_id)})


class CustomerApiController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]

    @get("/", guards=api_read, opt=AUDIT_READS)
    async def search(self, request: Request, q: str = "", page: int = 1, per_page: int = 25,
                     sort: str = "name", desc: bool = False) -> CustomerPage:
        """Search by name prefix, phone suffix, plate or VIN prefix; paged and sorted."""
        found = await service.search_customers(request.user.tenant_id, q, page=page,
                                               per_page=per_page, sort=sort, descending=desc)
        note_customers_shown(request, (r["id"] for r in found.customers))
        return CustomerPage(
            items=[CustomerSummary(r["id"], r["name"], r["phone_e164"], r["category"],
                                   r["after_sales_loyal"], r["last_visit_at"],
                                   found.plates.get(r["id"], [])) for r in found.customers],
            total=found.total, page=max(page, 1), per_page=min(max(per_page, 1), 100))

    @post("/", guards=api_write)
    async def create(self, request: Request, data: CustomerCreate) -> CustomerRead:
        with input_errors():
            row = await service.create_customer(request.user.tenant_id, data)
        note_customer(request, row.id)
        return customer_read(row)

    @get("/{customer_id:uuid}", guards=api_read, opt=AUDIT_READS)
    async def read(self, request: Request, customer_id: uuid.UUID) -> CustomerRead:
        row = await service.get_customer(request.user.tenant_id, customer_id)
        return customer_read(found(row, "customer"))

    @patch("/{customer_id:uuid}", guards=api_write)
    async def update(self, request: Request, customer_id: uuid.UUID,
                     data: CustomerUpdate) -> CustomerRead:
        with input_errors():
            row = await service.update_customer(request.user.tenant_id, customer_id, data)
        return customer_read(found(row, "customer"))

    @get("/{customer_id:uuid}/consents", guards=api_read, opt=AUDIT_READS)
    async def consents(self, request: Request, customer_id: uuid.UUID) -> list[ConsentRead]:
        found(await service.get_customer(request.user.tenant_id, customer_id), "customer")
        return [ConsentRead(c.purpose, c.channel, c.granted, c.changed_at, c.source)
                for c in await service.list_consents(request.user.tenant_id, customer_id)]

    @post("/{customer_id:uuid}/consents", guards=api_write)
    async def change_consent(self, request: Request, customer_id: uuid.UUID,
                             data: ConsentChange) -> list[ConsentRead]:
        found(await service.get_customer(request.user.tenant_id, customer_id), "customer")
        with input_errors():
            await service.record_consent(request.user.tenant_id, customer_id, data.purpose,
                                         data.channel, data.granted, data.source)
        return [ConsentRead(c.purpose, c.channel, c.granted, c.changed_at, c.source)
                for c in await service.list_consents(request.user.tenant_id, customer_id)]

    @put("/{customer_id:uuid}/team", guards=[dealer_admin_only])
    async def change_team(self, request: Request, customer_id: uuid.UUID,
                          data: TeamUpdate) -> CustomerRead:
        with input_errors():
            row = await service.set_team(request.user.tenant_id, customer_id, data)
        return customer_read(found(row, "customer"))

    @get("/{customer_id:uuid}/timeline", guards=api_read, opt=AUDIT_READS)
    async def customer_timeline(self, request: Request, customer_id: uuid.UUID,
                                limit: int = 100) -> list[TimelineEntry]:
        found(await service.get_customer(request.user.tenant_id, customer_id), "customer")
        return await timeline(request.user.tenant_id, customer_id, int_arg(limit, 100,
                                                                           maximum=1000))

    @get("/{customer_id:uuid}/export", guards=[dealer_admin_only], opt=AUDIT_READS)
    async def export(self, request: Request, customer_id: uuid.UUID) -> Response:
        """PIPL: everything about the customer as a JSON file (audited)."""
        return await _export_response(request.user, customer_id)

    @post("/{customer_id:uuid}/erase", guards=[dealer_admin_only], status_code=200)
    async def erase(self, request: Request, customer_id: uuid.UUID) -> CustomerRead:
        """PIPL: remove the person, keep the aggregates (audited)."""
        user: CurrentUser = request.user
        if not await privacy.erase_customer(user.tenant_id, customer_id, actor_id=user.id,
                                            actor=user.email):
            raise NotFoundException("no such customer")
        row = await service.get_customer(user.tenant_id, customer_id)
        return customer_read(found(row, "customer"))


def _choices() -> dict[str, Any]:
    return {"genders": GENDERS, "customer_types": CUSTOMER_TYPES, "categories": CATEGORIES,
            "channels": CHANNELS, "purposes": PURPOSES, "locales": LOCALES}


def _form_values(row: Customer | None) -> dict[str, Any]:
    if row is None:
        return {}
    values = {name: getattr(row, name, None) for name in FORM_FIELDS}
    values["phone"] = row.phone_e164
    return values


class CustomerPageController(Controller):
    path = "/customers"
    guards = dealer_pages

    @get("/", include_in_schema=False, opt=AUDIT_READS)
    async def list_page(self, request: Request, q: str = "",
                        page_number: Annotated[str | None, Parameter(query="page")] = None,
                        sort: str = "name", desc: bool = False) -> Template:
        number = int_arg(page_number, 1)
        found = await service.search_customers(request.user.tenant_id, q, page=number,
                                               per_page=PAGE_SIZE, sort=sort, descending=desc)
        note_customers_shown(request, (r["id"] for r in found.customers))
        return render(request, "customers/list.html", q=q, result=found, page_number=number,
                    pages=page_count(found.total), sort=sort, desc=desc,
                    sorts=list(service.SORTS))

    @get("/new", include_in_schema=False)
    async def new_form(self, request: Request) -> Template:
        return render(request, "customers/form.html", values={}, errors={}, customer=None,
                    **_choices())

    @post("/new", include_in_schema=False)
    async def create(self, request: Request) -> Any:
        values = await form_data(request)
        try:
            row = await service.create_customer(request.user.tenant_id, values)
        except InvalidInput as invalid:
            return render(request, "customers/form.html", status_code=400, values=values,
                        errors=form_errors(invalid), customer=None, **_choices())
        note_customer(request, row.id)
        return Redirect(f"/customers/{row.id}", status_code=303)

    @get("/{customer_id:uuid}", include_in_schema=False, opt=AUDIT_READS)
    async def view(self, request: Request, customer_id: uuid.UUID) -> Template:
        tenant_id = request.user.tenant_id
        row = found(await service.get_customer(tenant_id, customer_id), "customer")
        vehicles = await list_vehicles_for_customer(tenant_id, customer_id)
        declined = {v.id: await declined_work(tenant_id, v.id) for v in vehicles}
        staff = {s.id: s for s in await list_staff(tenant_id)}
        profile = await service.contact_profile(tenant_id, customer_id)
        return render(request, "customers/view.html", customer=row, vehicles=vehicles,
                    declined=declined, staff=staff, profile=profile,
                    consents=await service.list_consents(tenant_id, customer_id),
                    entries=await timeline(tenant_id, customer_id, 100), **_choices())

    @get("/{customer_id:uuid}/edit", include_in_schema=False, opt=AUDIT_READS)
    async def edit_form(self, request: Request, customer_id: uuid.UUID) -> Template:
        row = found(await service.get_customer(request.user.tenant_id, customer_id), "customer")
        return render(request, "customers/form.html", values=_form_values(row), errors={},
                    customer=row, **_choices())

    @post("/{customer_id:uuid}/edit", include_in_schema=False)
    async def update(self, request: Request, customer_id: uuid.UUID) -> Any:
        values = {k: v for k, v in (await form_data(request)).items() if k in FORM_FIELDS}
        try:
            row = await service.update_customer(request.user.tenant_id, customer_id, values)
        except InvalidInput as invalid:
            current = await service.get_customer(request.user.tenant_id, customer_id)
            return render(request, "customers/form.html", status_code=400, values=values,
                        errors=form_errors(invalid), customer=found(current, "customer"),
                        **_choices())
        found(row, "customer")
        return Redirect(f"/customers/{customer_id}", status_code=303)

    @post("/{customer_id:uuid}/consents", include_in_schema=False)
    async def change_consent(self, request: Request, customer_id: uuid.UUID) -> Redirect:
        values = await form_data(request)
        found(await service.get_customer(request.user.tenant_id, customer_id), "customer")
        with input_errors():
            if values.get("granted") == "withdraw_all":
                await service.withdraw_consent(request.user.tenant_id, customer_id,
                                               values.get("purpose", ""), "portal")
            else:
                await service.record_consent(
                    request.user.tenant_id, customer_id, values.get("purpose", ""),
                    values.get("channel", ""), values.get("granted") == "yes", "portal")
        return Redirect(f"/customers/{customer_id}#consent", status_code=303)

    @post("/{customer_id:uuid}/team", include_in_schema=False, guards=[dealer_admin_only])
    async def change_team(self, request: Request, customer_id: uuid.UUID) -> Redirect:
        values = await form_data(request)
        try:
            team = msgspec.convert({k: v or None for k, v in values.items()}, TeamUpdate,
                                   strict=False)
            found(await service.set_team(request.user.tenant_id, customer_id, team), "customer")
        except msgspec.ValidationError as error:
            raise ValidationException(str(error)) from None
        except InvalidInput as invalid:
            raise validation_error(invalid) from None
        return Redirect(f"/customers/{customer_id}#team", status_code=303)

    @get("/{customer_id:uuid}/export", include_in_schema=False, guards=[dealer_admin_only],
         opt=AUDIT_READS)
    async def export(self, request: Request, customer_id: uuid.UUID) -> Response:
        return await _export_response(request.user, customer_id)

    @post("/{customer_id:uuid}/erase", include_in_schema=False, guards=[dealer_admin_only])
    async def erase(self, request: Request, customer_id: uuid.UUID) -> Redirect:
        user: CurrentUser = request.user
        if not await privacy.erase_customer(user.tenant_id, customer_id, actor_id=user.id,
                                            actor=user.email):
            raise NotFoundException("no such customer")
        return Redirect(f"/customers/{customer_id}", status_code=303)


async def _customer_count(user: CurrentUser) -> int:
    found = await service.search_customers(user.tenant_id, "", per_page=1)
    return found.total


register_nav("dealer", "/customers", "Customers", DEALER_ROLES, order=20)
register_tile("dealer", "/customers", "Customers", DEALER_ROLES, _customer_count, order=20)
