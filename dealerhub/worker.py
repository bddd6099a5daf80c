"""The worker entry point (`dramatiq dealerhub.worker`): imports every component's actors."""

from dealerhub.channels.messages import tasks as _channel_tasks  # noqa: F401 - registers actors
from dealerhub.channels.plugin import discovered
from dealerhub.channels.webhooks import tasks as _webhook_tasks  # noqa: F401 - registers actors
from dealerhub.platform import db, events, jobs  # noqa: F401 - registers actors
from dealerhub.platform.appointments import tasks as _appointment_tasks  # noqa: F401
from dealerhub.platform.campaigns import tasks as _campaign_tasks  # noqa: F401
from dealerhub.platform.config import get_settings
from dealerhub.platform.scoring import tasks as _scoring_tasks  # noqa: F401
from dealerhub.platform.telemetry import setup as _setup_telemetry
from dealerhub.survey import tasks as _survey_tasks  # noqa: F401
from dealerhub.tenants.customers import tasks as _customer_tasks  # noqa: F401
from dealerhub.tenants.imports import tasks as _import_tasks  # noqa: F401
from dealerhub.tenants.vehicles import tasks as _vehicle_tasks  # noqa: F401

_setup_telemetry(get_settings())
discovered()  # every channel plugin loaded at boot, not by a process's first send (boto3 …)
broker = jobs.broker
