"""The worker entry point (`dramatiq dealerhub.worker`): imports every component's actors."""

from dealerhub.channels.messages import tasks as _channel_tasks  # noqa: F401 - registers actors
from dealerhub.channels.webhooks import tasks as _webhook_tasks  # noqa: F401 - registers actors
from dealerhub.platform import db, events, jobs  # noqa: F401 - registers actors
from dealerhub.platform.config import get_settings
from dealerhub.platform.telemetry import setup as _setup_telemetry

_setup_telemetry(get_settings())
broker = jobs.broker
