"""Test harness: a fresh migrated database per run, on SQLite or (DEALERHUB_TEST_DB=postgres)
on PostgreSQL as the non-owning app role; Redis when DEALERHUB_TEST_REDIS=1.
DEALERHUB_TEST_PG_ADMIN=private starts a throwaway PostgreSQL cluster for the run (the
fault-injection tests stop and start it; the shared server is never touched).

Under CI=true a PostgreSQL or Redis run whose server is unreachable fails, never skips.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import PrivatePostgres, postgres_bindir

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get(
    "DEALERHUB_TEST_PG_ADMIN", "postgresql://postgres@localhost:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("DEALERHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
USE_POSTGRES = os.environ.get("DEALERHUB_TEST_DB", "sqlite") == "postgres"
USE_REDIS = os.environ.get("DEALERHUB_TEST_REDIS", "") == "1"
IN_CI = os.environ.get("CI", "").lower() == "true"
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
PASSWORD = "correct-horse-7"
PRIVATE_PG: PrivatePostgres | None = None
PRIVATE_PG_PROBLEM = (
    "needs a private PostgreSQL cluster it may restart: `make test-resilience` "
    "(DEALERHUB_TEST_DB=postgres DEALERHUB_TEST_PG_ADMIN=private)"
)


def _start_private_postgres() -> None:
    """Start the run's own cluster; without the server binaries the run goes on on SQLite
    and the tests that need the cluster skip, naming why (under CI=true it fails)."""
    global PRIVATE_PG, PRIVATE_PG_PROBLEM, PG_ADMIN_DSN, USE_POSTGRES
    bindir = postgres_bindir()
    if bindir is None:
        PRIVATE_PG_PROBLEM = "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        if IN_CI:
            raise pytest.UsageError(f"CI=true needs a private PostgreSQL: {PRIVATE_PG_PROBLEM}")
        USE_POSTGRES = False
        return
    PRIVATE_PG = PrivatePostgres(bindir).start()
    PG_ADMIN_DSN = PRIVATE_PG.admin_dsn


def _pg_unreachable() -> str | None:
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as error:
        return f"PostgreSQL at {PG_ADMIN_DSN} unreachable: {error}"
    return None


def _redis_unreachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"Redis at {TEST_REDIS_URL} unreachable: {error}"
    return None


def _require(service: str, problem: str | None) -> None:
    """A service the run asked for but cannot reach: CI fails, elsewhere the run is skipped."""
    if problem:
        if IN_CI:
            raise pytest.UsageError(f"CI=true needs {service}: {problem}")
        pytest.exit(f"skipping the {service} run: {problem}", returncode=0)


def _configure_environment() -> None:
    """Runs before any dealerhub module is imported: Piccolo reads its engine at import."""
    var_dir = Path(tempfile.mkdtemp(prefix="dealerhub-test-"))
    os.environ.update(
        {
            "DEALERHUB_VAR_DIR": str(var_dir),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "CHANNEL_KEY": secrets.token_urlsafe(48),
            "DEALERHUB_SECURE_COOKIES": "false",
            "DEALERHUB_ALLOW_PRIVATE_WEBHOOKS": "true",
            "DEALERHUB_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
            "DEALERHUB_REDIS_NAMESPACE": f"dealerhub-test-{RUN_ID}",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("MIGRATION_DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    if USE_POSTGRES and PG_ADMIN_DSN == "private":
        _start_private_postgres()
    if USE_POSTGRES:
        _require("PostgreSQL", _pg_unreachable())
        from dealerhub.platform.pg_admin import create_database

        name = f"dealerhub_test_{RUN_ID}"
        app_dsn, owner_dsn = asyncio.run(create_database(PG_ADMIN_DSN, name))
        os.environ["DATABASE_URL"] = app_dsn + "?pool_size=10"
        os.environ["MIGRATION_DATABASE_URL"] = owner_dsn
        os.environ["DEALERHUB_TEST_PG_DATABASE"] = name
    if USE_REDIS:
        _require("Redis", _redis_unreachable())
        os.environ["REDIS_URL"] = TEST_REDIS_URL
    completed = subprocess.run(
        [sys.executable, "-m", "dealerhub.cli", "migrate"], capture_output=True, text=True, cwd=ROOT
    )
    if completed.returncode:
        raise pytest.UsageError(f"migrations failed:\n{completed.stdout}\n{completed.stderr}")


_configure_environment()


def pytest_report_header() -> list[str]:
    return [
        f"dealerhub: database={'postgres' if USE_POSTGRES else 'sqlite'} "
        f"redis={'yes' if USE_REDIS else 'no (in-process broker)'}"
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs DEALERHUB_TEST_DB=postgres (the PostgreSQL run)")
    skip_redis = pytest.mark.skip(reason="needs DEALERHUB_TEST_REDIS=1 (the Redis run)")
    for item in items:
        if "postgres" in item.keywords and not USE_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not USE_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_owner_dsn() -> str:
    """The migrated test database, connected as the table owner (schema inspection)."""
    if not USE_POSTGRES:
        pytest.skip("needs DEALERHUB_TEST_DB=postgres")
    return os.environ["MIGRATION_DATABASE_URL"]


@pytest.fixture(scope="session")
def pg_app_dsn() -> str:
    if not USE_POSTGRES:
        pytest.skip("needs DEALERHUB_TEST_DB=postgres")
    return os.environ["DATABASE_URL"].split("?")[0]


@pytest.fixture(scope="session")
async def database(anyio_backend: str) -> AsyncIterator[None]:
    from dealerhub.platform import db
    from dealerhub.platform.config import get_settings

    await db.start(get_settings())
    yield
    await db.stop(get_settings())


@pytest.fixture(scope="session")
def jobs_worker() -> Iterator[object]:
    """Dramatiq's worker in this process; tests call `.drain()` to wait for their jobs."""
    from dealerhub import worker as _components  # noqa: F401 - registers actors
    from dealerhub.platform.jobs import EmbeddedWorker

    worker = EmbeddedWorker(worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


@dataclass
class DealerFixture:
    """A dealer with one user per dealer role, created fresh for a test."""

    id: uuid.UUID
    code: str
    region_id: uuid.UUID
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


@dataclass
class OemFixture:
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


async def create_dealer(
    region_code: str = "T-REG", time_zone: str = "Asia/Shanghai", **dealer_fields: object
) -> DealerFixture:
    from dealerhub.platform.tables import AppUser, Dealer, Region

    region = await Region.objects().where(Region.code == region_code).first()
    if region is None:
        region = Region(code=region_code, name_zh="测试大区", name_en="Test region")
        await Region.insert(region)
    code = f"T{secrets.token_hex(4).upper()}"
    dealer = Dealer(
        code=code,
        name=f"测试经销商 {code}",
        region=region.id,
        city="上海",
        time_zone=time_zone,
        **dealer_fields,
    )
    await Dealer.insert(dealer)
    fixture = DealerFixture(dealer.id, code, region.id)
    password_hash = _password_hash()
    for role in ("dealer_admin", "service_advisor", "cs_agent"):
        email = f"{role}.{code.lower()}@test.example"
        user = AppUser(
            email=email,
            display_name=f"{role} {code}",
            password_hash=password_hash,
            role=role,
            dealer=dealer.id,
            region=region.id,
        )
        await AppUser.insert(user)
        fixture.users[role] = user.id
        fixture.emails[role] = email
    return fixture


_hash_cache: dict[str, str] = {}


def _password_hash() -> str:
    """One hash for every fixture user, made through the password policy (the fixtures'
    e-mails are `<role>.<code>@test.example`, none of which the password contains)."""
    from dealerhub.platform.auth import hash_new_password

    if PASSWORD not in _hash_cache:
        _hash_cache[PASSWORD] = hash_new_password(PASSWORD, "fixture@test.example")
    return _hash_cache[PASSWORD]


async def create_regional_manager(region_id: uuid.UUID | None = None) -> uuid.UUID:
    """An OEM regional manager of that region (a new region of its own by default)."""
    from dealerhub.platform.tables import AppUser, Region

    if region_id is None:
        code = f"R{secrets.token_hex(3).upper()}"
        region = Region(code=code, name_zh="其他大区", name_en="Other region")
        await Region.insert(region)
        region_id = region.id
    user = AppUser(email=f"rm.{secrets.token_hex(4)}@test.example", display_name="区域经理",
                   password_hash=_password_hash(), role="oem_regional_manager", region=region_id)
    await AppUser.insert(user)
    return user.id


async def create_oem_users() -> OemFixture:
    from dealerhub.platform.tables import AppUser

    fixture = OemFixture()
    suffix = secrets.token_hex(4)
    for role in ("oem_admin", "oem_analyst"):
        email = f"{role}.{suffix}@oem.test.example"
        user = AppUser(email=email, display_name=role, password_hash=_password_hash(), role=role)
        await AppUser.insert(user)
        fixture.users[role] = user.id
        fixture.emails[role] = email
    return fixture


@pytest.fixture
async def dealer_factory(database: None) -> Callable[..., Awaitable[DealerFixture]]:
    return create_dealer


@pytest.fixture
async def dealer_a(database: None) -> DealerFixture:
    return await create_dealer()


@pytest.fixture
async def dealer_b(database: None) -> DealerFixture:
    return await create_dealer()


@pytest.fixture
async def oem(database: None) -> OemFixture:
    return await create_oem_users()


@pytest.fixture
async def client(database: None) -> AsyncIterator[object]:
    """The whole app over ASGI, with jobs left to the test (no embedded worker)."""
    from litestar.testing import AsyncTestClient

    from dealerhub.app import create_app

    app = create_app(embedded_jobs=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def bearer_for(test_client: object, email: str) -> dict[str, str]:
    """Headers carrying a bearer token for the user (through the real token endpoint)."""
    response = await test_client.post(  # type: ignore[attr-defined]
        "/api/v1/auth/token",
        json={"email": email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def login_page_session(test_client: object, email: str) -> None:
    """Sign in through the real login form (CSRF token included)."""
    page = await test_client.get("/login")  # type: ignore[attr-defined]
    token = test_client.cookies.get("dh_csrf")  # type: ignore[attr-defined]
    assert token, page.text
    response = await test_client.post(  # type: ignore[attr-defined]
        "/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL database so runs do not pile up on the server."""
    if PRIVATE_PG is not None:
        PRIVATE_PG.destroy()
        return
    name = os.environ.get("DEALERHUB_TEST_PG_DATABASE")
    if name and os.environ.get("DEALERHUB_KEEP_TEST_DB") != "1":
        from dealerhub.platform.pg_admin import drop_database

        try:
            asyncio.run(drop_database(PG_ADMIN_DSN, name))
        except Exception as error:  # the run's verdict matters more than the clean-up
            print(f"could not drop {name}: {error}")


@pytest.fixture
async def quiet_outbox(database: None) -> None:
    """Mark events earlier tests left unpublished, so a test that drives the relay carries
    only its own events to the consumers (the suite shares one outbox and one worker)."""
    from datetime import UTC, datetime

    from dealerhub.platform.tables import EventOutbox

    await EventOutbox.update({EventOutbox.published_at: datetime.now(UTC)}).where(
        EventOutbox.published_at.is_null()
    )
