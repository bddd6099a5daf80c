"""Browser tests serve the app in its own process, whose scheduler would relay every event
earlier tests left unpublished: start each one from a quiet outbox."""

import pytest


@pytest.fixture(autouse=True)
async def _quiet_outbox_for_served_app(quiet_outbox: None) -> None:
    return None
