"""The core's Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.platform import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="platform",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.Region,
        tables.Dealer,
        tables.Role,
        tables.AppUser,
        tables.ApiKey,
        tables.AuditLog,
        tables.AuditCustomerShown,
        tables.EventOutbox,
        tables.EventConsumption,
        tables.ScheduledRun,
    ],
    migration_dependencies=[],
    commands=[],
)
