"""Repair orders in the JSON API (opened at reception, closed at delivery) and a page."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.response import Template

from dealerhub.platform.audit import AUDIT_READS, note_customer
from dealerhub.platform.web import found
from dealerhub.tenants.repair_orders import service
from dealerhub.tenants.repair_orders.schemas import (
    RepairOrderClose,
    RepairOrderOpen,
    RepairOrderRead,
)
from dealerhub.tenants.web import api_read, api_write, dealer_pages, input_errors, render


class RepairOrderApiController(Controller):
    path = "/api/v1/repair-orders"
    tags = ["repair orders"]

    @post("/", guards=api_write)
    async def open(self, request: Request, data: RepairOrderOpen) -> RepairOrderRead:
        with input_errors():
            return await service.open_repair_order(request.user.tenant_id, data)

    @get("/{repair_order_id:uuid}", guards=api_read)
    async def read(self, request: Request, repair_order_id: uuid.UUID) -> RepairOrderRead:
        return found(await service.get_repair_order(request.user.tenant_id, repair_order_id),
                     "repair order")

    @post("/{repair_order_id:uuid}/close", guards=api_write, status_code=200)
    async def close(self, request: Request, repair_order_id: uuid.UUID,
                    data: RepairOrderClose) -> RepairOrderRead:
        """Close with the lines done and declined (declined lines become declined work)."""
        with input_errors():
            return found(await service.close_repair_order(
                request.user.tenant_id, repair_order_id, data.closed_at, data.lines),
                "repair order")


class RepairOrderPageController(Controller):
    path = "/repair-orders"
    guards = dealer_pages

    @get("/{repair_order_id:uuid}", include_in_schema=False, opt=AUDIT_READS)
    async def view(self, request: Request, repair_order_id: uuid.UUID) -> Template:
        order = found(await service.get_repair_order(request.user.tenant_id, repair_order_id),
                      "repair order")
        note_customer(request, order.customer_id)
        return render(request, "repair_orders/view.html", order=order)
