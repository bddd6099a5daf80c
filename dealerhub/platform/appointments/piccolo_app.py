"""The appointments Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.platform.appointments.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="appointments",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["dealerhub.tenants.piccolo_app"],
    commands=[],
)
