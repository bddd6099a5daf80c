"""Every campaign job, periodic task and event consumer (imported by the worker)."""

from dealerhub.platform.campaigns.due_lists import tasks as due_list_tasks

__all__ = ["due_list_tasks"]
