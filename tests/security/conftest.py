"""One app client and one seeded pair of dealers for the whole security suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.security.world import World, build_world


@pytest.fixture(scope="session")
async def security_client(database: None) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from dealerhub.app import create_app

    async with AsyncTestClient(app=create_app(embedded_jobs=False)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
async def world(security_client: Any) -> World:
    return await build_world(security_client)
