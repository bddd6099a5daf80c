"""A transaction the server cuts off (PostgreSQL restarted, backend killed) hands its pool
connection back and clears the current transaction: the pool keeps its size and the same
task's next transaction starts afresh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import pytest

from dealerhub.platform import db
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope, transaction

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def _backend_pid() -> int:
    return (await db.fetch("select pg_backend_pid() as pid"))[0]["pid"]


async def _terminate(pid: int, app_dsn: str) -> None:
    """From another session, as the app role may for its own backends."""
    other = await asyncpg.connect(app_dsn)
    try:
        await other.execute("select pg_terminate_backend($1)", pid)
    finally:
        await other.close()


def _scopes(dealer_id: object) -> list[Callable[[], AbstractAsyncContextManager[object]]]:
    return [transaction, lambda: tenant_scope(dealer_id)]


@pytest.mark.parametrize("kind", [0, 1], ids=["transaction", "tenant_scope"])
async def test_cut_off_transactions_do_not_drain_the_pool(dealer_a, pg_app_dsn, kind) -> None:
    scope = _scopes(dealer_a.id)[kind]
    for _ in range(db.engine()._pool_size + 2):  # more than the pool holds
        with pytest.raises(asyncpg.PostgresConnectionError):  # cut off in the middle
            async with scope():
                await db.fetch("select pg_terminate_backend(pg_backend_pid())")
        with pytest.raises(Exception):  # noqa: B017 - whatever asyncpg makes of the dead socket
            async with scope():  # cut off just before COMMIT
                await _terminate(await _backend_pid(), pg_app_dsn)
    assert db.engine().current_transaction.get() is None
    async with scope():  # neither waits for a connection nor joins a dead transaction
        found = await asyncio.wait_for(Dealer.count().where(Dealer.id == dealer_a.id), 10)
    assert found == 1
