"""Fixtures for the deployment tests (chart, compose file, Dockerfile, tenant schema)."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run the async tests here on asyncio only (asyncpg has no trio support)."""
    return "asyncio"
