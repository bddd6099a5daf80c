"""Background imports: the actor takes ids and opens its own tenant scope."""

from __future__ import annotations

import uuid

from dealerhub.platform.jobs import actor
from dealerhub.tenants.imports.service import run_import


@actor("imports.run", max_retries=0, time_limit=6 * 3600 * 1000)
async def run(tenant_id: str, import_id: str) -> None:
    await run_import(uuid.UUID(tenant_id), uuid.UUID(import_id))
