"""Background work: the facts consumer on every event type a metric reads, and the
periodic benchmark refresh and anomaly check."""

from __future__ import annotations

from dealerhub.platform import events, jobs
from dealerhub.platform.scoring import service
from dealerhub.platform.scoring.metrics import EVENT_TYPES

REFRESH_EVERY_SECONDS = 15 * 60
CONSUMER = "scoring.facts"
ANOMALY_CONSUMER = "scoring.anomaly_alert"

for _event_type in sorted(EVENT_TYPES):
    events.consumer(_event_type, CONSUMER)(service.consume)


@events.consumer("scoring.anomaly", ANOMALY_CONSUMER)
async def alert_on_anomaly(event: events.Event) -> None:
    if event.tenant_id is not None:
        await service.alert_anomaly(event.tenant_id, event.payload)


@jobs.actor("scoring.refresh", max_retries=3)
async def refresh() -> None:
    await service.periodic_refresh()


@jobs.periodic("scoring.schedule_refresh", every_seconds=REFRESH_EVERY_SECONDS)
async def schedule_refresh() -> None:
    refresh.send()
