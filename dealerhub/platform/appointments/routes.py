"""Appointments over HTTP: the JSON API, the dealer portal pages and the car owner's
self-service pages; and their place in the navigation and on the dashboard."""

from __future__ import annotations

from pathlib import Path

from dealerhub.platform.appointments import service
from dealerhub.platform.appointments import tasks as _tasks  # noqa: F401 - reminders, replies
from dealerhub.platform.appointments._routes_api import (
    AppointmentApiController,
    CapacityApiController,
)
from dealerhub.platform.appointments._routes_customer import CustomerAppointmentController
from dealerhub.platform.appointments._routes_pages import (
    AppointmentPagesController,
    CapacityPagesController,
)
from dealerhub.platform.auth import DEALER_ROLES, CurrentUser
from dealerhub.platform.web import register_nav, register_tile

TEMPLATES = Path(__file__).parent / "templates"
APPOINTMENT_ROUTES = [AppointmentApiController, CapacityApiController,
                      AppointmentPagesController, CapacityPagesController,
                      CustomerAppointmentController]
register_nav("dealer", "/appointments/board", "Service day board", DEALER_ROLES, order=20)
register_nav("dealer", "/appointments/new", "Book appointment", DEALER_ROLES, order=21)
register_nav("dealer", "/appointments/tasks", "Reschedule requests", DEALER_ROLES, order=22)
register_nav("dealer", "/appointments/capacity", "Service capacity", {"dealer_admin"}, order=23)


async def _today(user: CurrentUser) -> int:
    board = await service.day_board(user.tenant_id)  # type: ignore[arg-type]
    return sum(len(group.rows) for group in board.groups)


register_tile("dealer", "/appointments/board", "Appointments today", DEALER_ROLES, _today, order=20)
