"""Creating a PostgreSQL database with dealerhub's two roles (tests, benchmarks, set-up).

The SQL lives in `infra/postgres/` so the compose stack and this code share it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse, urlunparse

INFRA_SQL = Path(__file__).resolve().parents[2] / "infra" / "postgres"


def with_database(dsn: str, database: str, user: str | None = None) -> str:
    """The same server URL pointing at another database, optionally as another role."""
    parsed = urlparse(dsn)
    netloc = parsed.netloc
    if user:
        netloc = f"{user}@{netloc.split('@')[-1]}"
    return urlunparse(parsed._replace(netloc=netloc, path=f"/{database}", query=""))


def roles_sql() -> str:
    """The role-creating part of roles.sql (the rest is psql meta-commands)."""
    return (INFRA_SQL / "roles.sql").read_text().split("SELECT 'CREATE DATABASE")[0]


async def create_database(admin_dsn: str, name: str) -> tuple[str, str]:
    """Create `name` owned by dealerhub_owner; returns (app DSN, owner DSN)."""
    import asyncpg

    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(roles_sql())
        await admin.execute(f'drop database if exists "{name}"')
        await admin.execute(f'create database "{name}" owner dealerhub_owner')
    finally:
        await admin.close()
    inside = await asyncpg.connect(with_database(admin_dsn, name))
    try:
        await inside.execute((INFRA_SQL / "app_grants.sql").read_text())
    finally:
        await inside.close()
    return (
        with_database(admin_dsn, name, "dealerhub_app"),
        with_database(admin_dsn, name, "dealerhub_owner"),
    )


async def drop_database(admin_dsn: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()
