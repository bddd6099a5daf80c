"""The API process as deployed (helm's api Deployment): no embedded job worker or
scheduler, which run in processes of their own there. Without this, the embedded scheduler
starts the nightly jobs (customer facts of every dealer, due lists) at start-up, inside
the process being measured."""

from __future__ import annotations

from litestar import Litestar

from dealerhub.app import create_app as create_full_app


def create_app() -> Litestar:
    return create_full_app(embedded_jobs=False)
