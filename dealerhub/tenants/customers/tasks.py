"""Nightly: "the last 12 months" moves every day, so loyalty facts are recomputed for all."""

from __future__ import annotations

from dealerhub.platform.jobs import actor, periodic
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.bulk import CHUNK
from dealerhub.tenants.customers.facts import refresh_customer_facts
from dealerhub.tenants.customers.tables import Customer

DAY_SECONDS = 24 * 3600


@actor("customers.refresh_facts", max_retries=3)
async def refresh_dealer_facts(tenant_id: str) -> None:
    """One dealer's customers, a chunk per transaction."""
    last = None
    while True:
        async with tenant_scope(tenant_id):
            query = Customer.select_in_tenant(Customer.id).order_by(Customer.id).limit(CHUNK)
            if last is not None:
                query = query.where(Customer.id > last)
            ids = [row["id"] for row in await query]
            if not ids:
                return
            await refresh_customer_facts(ids)
        last = ids[-1]


@periodic("customers.refresh_facts_daily", every_seconds=DAY_SECONDS)
async def refresh_all_facts() -> None:
    for dealer in await Dealer.select(Dealer.id):
        refresh_dealer_facts.send(str(dealer["id"]))
