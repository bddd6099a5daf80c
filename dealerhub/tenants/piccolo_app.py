"""The dealer customer base as one Piccolo app: customers, vehicles, repair orders, staff,
imports."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.tenants.customers.tables import Customer, CustomerConsent
from dealerhub.tenants.imports.tables import ImportJob, ImportRowError
from dealerhub.tenants.repair_orders.tables import RepairOrder, RepairOrderLine
from dealerhub.tenants.staff.tables import Staff
from dealerhub.tenants.vehicles.tables import OdometerReading, Vehicle, VehicleModel

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Staff, Customer, CustomerConsent, VehicleModel, Vehicle, OdometerReading,
                   RepairOrder, RepairOrderLine, ImportJob, ImportRowError],
    migration_dependencies=["dealerhub.platform.piccolo_app"],
    commands=[],
)
