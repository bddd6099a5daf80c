"""The scoring Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.platform.scoring.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="scoring",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["dealerhub.platform.piccolo_app"],
    commands=[],
)
