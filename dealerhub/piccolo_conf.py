"""Piccolo's configuration: the engine from settings and the component apps.

`dealerhub migrate` sets DEALERHUB_MIGRATING=1 so migrations connect as the table owner.
"""

import os

from piccolo.conf.apps import AppRegistry

from dealerhub.platform.config import get_settings
from dealerhub.platform.db import make_engine

_settings = get_settings()

DB = make_engine(
    _settings.migration_database_url
    if os.environ.get("DEALERHUB_MIGRATING") == "1"
    else _settings.database_url
)

APP_REGISTRY = AppRegistry(
    apps=[
        "dealerhub.platform.piccolo_app",
        "dealerhub.tenants.piccolo_app",
        "dealerhub.channels.piccolo_app",
        "dealerhub.platform.appointments.piccolo_app",
        "dealerhub.survey.piccolo_app",
        "dealerhub.platform.campaigns.piccolo_app",
        "dealerhub.platform.scoring.piccolo_app",
    ]
)
