"""Vehicles in the JSON API and the portal, and the OEM's model catalogue under /hq."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from dealerhub.platform.audit import AUDIT_READS, note_customer
from dealerhub.platform.auth import (
    DEALER_ROLES,
    OEM_ROLES,
    oem_admin_only,
    oem_staff,
    requires_roles,
)
from dealerhub.platform.web import found, register_nav
from dealerhub.tenants.customers.service import get_customer
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.repair_orders.schemas import DeclinedWork
from dealerhub.tenants.repair_orders.service import declined_work
from dealerhub.tenants.vehicles import service
from dealerhub.tenants.vehicles.schemas import (
    OdometerEntry,
    OdometerRead,
    VehicleCreate,
    VehicleModelRead,
    VehicleModelWrite,
    VehicleRead,
    VehicleUpdate,
)
from dealerhub.tenants.vehicles.tables import VehicleModel
from dealerhub.tenants.web import (
    api_read,
    api_write,
    dealer_pages,
    form_data,
    form_errors,
    input_errors,
    render,
)

VEHICLE_FORM_FIELDS = ("vin", "plate", "model_code", "model_year", "purchase_date",
                       "warranty_end", "warranty_end_km", "insurance_expiry", "open_recalls",
                       "external_id")


def model_read(row: VehicleModel) -> VehicleModelRead:
    return VehicleModelRead(row.id, row.code, row.name, row.maintenance_km,
                            row.maintenance_months, row.warranty_years, row.warranty_km)


class VehicleApiController(Controller):
    path = "/api/v1/vehicles"
    tags = ["vehicles"]

    @post("/", guards=api_write)
    async def create(self, request: Request, data: VehicleCreate) -> VehicleRead:
        with input_errors():
            return await service.create_vehicle(request.user.tenant_id, data)

    @get("/{vehicle_id:uuid}", guards=api_read)
    async def read(self, request: Request, vehicle_id: uuid.UUID) -> VehicleRead:
        return found(await service.get_vehicle(request.user.tenant_id, vehicle_id), "vehicle")

    @patch("/{vehicle_id:uuid}", guards=api_write)
    async def update(self, request: Request, vehicle_id: uuid.UUID,
                     data: VehicleUpdate) -> VehicleRead:
        with input_errors():
            return found(await service.update_vehicle(request.user.tenant_id, vehicle_id, data),
                         "vehicle")

    @get("/{vehicle_id:uuid}/odometer", guards=api_read)
    async def odometer(self, request: Request, vehicle_id: uuid.UUID) -> list[OdometerRead]:
        found(await service.get_vehicle(request.user.tenant_id, vehicle_id), "vehicle")
        return await service.odometer_history(request.user.tenant_id, vehicle_id)

    @post("/{vehicle_id:uuid}/odometer", guards=api_write)
    async def add_reading(self, request: Request, vehicle_id: uuid.UUID,
                          data: OdometerEntry) -> VehicleRead:
        """A reading lower than an earlier one is refused (400, field `km`)."""
        with input_errors():
            return found(await service.record_odometer(request.user.tenant_id, vehicle_id,
                                                       data.km, data.read_on), "vehicle")

    @get("/{vehicle_id:uuid}/declined-work", guards=api_read)
    async def declined(self, request: Request, vehicle_id: uuid.UUID) -> list[DeclinedWork]:
        found(await service.get_vehicle(request.user.tenant_id, vehicle_id), "vehicle")
        return await declined_work(request.user.tenant_id, vehicle_id)


class VehiclePageController(Controller):
    guards = dealer_pages

    @get("/customers/{customer_id:uuid}/vehicles/new", include_in_schema=False)
    async def new_form(self, request: Request, customer_id: uuid.UUID) -> Template:
        customer = await get_customer(request.user.tenant_id, customer_id)
        if customer is None:
            raise NotFoundException("no such customer")
        return render(request, "vehicles/form.html", customer=customer, values={}, errors={},
                    models=await service.list_vehicle_models())

    @post("/customers/{customer_id:uuid}/vehicles/new", include_in_schema=False)
    async def create(self, request: Request, customer_id: uuid.UUID) -> Any:
        values = {k: v for k, v in (await form_data(request)).items() if k in VEHICLE_FORM_FIELDS}
        customer = await get_customer(request.user.tenant_id, customer_id)
        if customer is None:
            raise NotFoundException("no such customer")
        try:
            await service.create_vehicle(request.user.tenant_id,
                                             {**values, "customer_id": customer_id})
        except InvalidInput as invalid:
            return render(request, "vehicles/form.html", status_code=400, customer=customer,
                        values=values, errors=form_errors(invalid),
                        models=await service.list_vehicle_models())
        return Redirect(f"/customers/{customer_id}#vehicles", status_code=303)

    @get("/vehicles/{vehicle_id:uuid}", include_in_schema=False, opt=AUDIT_READS)
    async def view(self, request: Request, vehicle_id: uuid.UUID,
                   error: str | None = None) -> Template:
        vehicle = found(await service.get_vehicle(request.user.tenant_id, vehicle_id), "vehicle")
        note_customer(request, vehicle.customer_id)
        return render(request, "vehicles/view.html", vehicle=vehicle, error=error,
                    readings=await service.odometer_history(request.user.tenant_id, vehicle_id),
                    declined=await declined_work(request.user.tenant_id, vehicle_id),
                    today=date.today())

    @post("/vehicles/{vehicle_id:uuid}/odometer", include_in_schema=False)
    async def add_reading(self, request: Request, vehicle_id: uuid.UUID) -> Any:
        values = await form_data(request)
        tenant_id = request.user.tenant_id
        try:
            found(await service.record_odometer(tenant_id, vehicle_id, values.get("km"),
                                                values.get("read_on")), "vehicle")
        except InvalidInput as invalid:
            return render(request, "vehicles/view.html", status_code=400,
                          vehicle=found(await service.get_vehicle(tenant_id, vehicle_id),
                                        "vehicle"),
                          error=str(invalid), today=date.today(),
                          readings=await service.odometer_history(tenant_id, vehicle_id),
                          declined=await declined_work(tenant_id, vehicle_id))
        return Redirect(f"/vehicles/{vehicle_id}", status_code=303)


class VehicleModelApiController(Controller):
    """The OEM's model catalogue: maintenance and warranty intervals per model."""

    path = "/api/v1/vehicle-models"
    tags = ["vehicle models"]

    @get("/", guards=[requires_roles(*OEM_ROLES, *DEALER_ROLES, "integration")])
    async def list_models(self) -> list[VehicleModelRead]:
        return [model_read(row) for row in await service.list_vehicle_models()]

    @post("/", guards=[oem_admin_only])
    async def save(self, data: VehicleModelWrite) -> VehicleModelRead:
        """Create a model or change its intervals (by code); vehicles are re-predicted."""
        with input_errors():
            return model_read(await service.save_vehicle_model(data))


class VehicleModelPageController(Controller):
    path = "/hq/vehicle-models"
    guards = [oem_staff]

    @get("/", include_in_schema=False)
    async def list_page(self, request: Request) -> Template:
        return render(request, "vehicles/models.html", models=await service.list_vehicle_models(),
                    values={}, errors={})

    @post("/", include_in_schema=False, guards=[oem_admin_only])
    async def save(self, request: Request) -> Any:
        values = await form_data(request)
        try:
            await service.save_vehicle_model(values)
        except InvalidInput as invalid:
            return render(request, "vehicles/models.html", status_code=400, values=values,
                        errors=form_errors(invalid), models=await service.list_vehicle_models())
        return Redirect("/hq/vehicle-models", status_code=303)


register_nav("hq", "/hq/vehicle-models", "Vehicle models", OEM_ROLES, order=60)
