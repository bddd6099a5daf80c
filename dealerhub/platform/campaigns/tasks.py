"""Every campaign job, periodic task and event consumer (imported by the worker)."""

from dealerhub.platform.campaigns.campaigns import tasks as campaign_tasks
from dealerhub.platform.campaigns.due_lists import tasks as due_list_tasks

__all__ = ["campaign_tasks", "due_list_tasks"]
