"""The customer base's controllers and templates, for the composition root."""

from pathlib import Path

from dealerhub.tenants.customers.access import (
    AccessHistoryApiController,
    AccessHistoryPageController,
)
from dealerhub.tenants.customers.routes import CustomerApiController, CustomerPageController
from dealerhub.tenants.imports.routes import ImportApiController, ImportPageController
from dealerhub.tenants.repair_orders.routes import (
    RepairOrderApiController,
    RepairOrderPageController,
)
from dealerhub.tenants.staff.routes import StaffApiController, StaffPageController
from dealerhub.tenants.vehicles.routes import (
    VehicleApiController,
    VehicleModelApiController,
    VehicleModelPageController,
    VehiclePageController,
)

HERE = Path(__file__).parent
TENANT_ROUTES = [
    CustomerApiController, CustomerPageController, VehicleApiController, VehiclePageController,
    VehicleModelApiController, VehicleModelPageController, RepairOrderApiController,
    RepairOrderPageController, StaffApiController, StaffPageController, ImportApiController,
    ImportPageController, AccessHistoryApiController, AccessHistoryPageController,
]
TEMPLATES = [HERE / module / "templates"
             for module in ("customers", "vehicles", "repair_orders", "staff", "imports")]
