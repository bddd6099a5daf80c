"""Background work on vehicles: re-predicting every dealer's vehicles after the OEM changes
a model's intervals."""

from __future__ import annotations

from dealerhub.platform.jobs import actor
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.vehicles.facts import refresh_vehicle_facts
from dealerhub.tenants.vehicles.tables import Vehicle


@actor("vehicles.refresh_model", max_retries=3)
async def refresh_model_vehicles(model_code: str) -> None:
    for dealer in await Dealer.select(Dealer.id):
        async with tenant_scope(dealer["id"]):
            ids = [row["id"] for row in await Vehicle.select_in_tenant(Vehicle.id).where(
                Vehicle.model_code == model_code)]
            await refresh_vehicle_facts(ids)
