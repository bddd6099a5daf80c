"""The compose file: services, start-up order, roles, users and the environment contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
APP_SERVICES = ("api", "worker", "scheduler")
APP_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "CHANNEL_KEY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SERVICE_NAME",
}
OPTIONAL_ENV = {"HOST", "PORT"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _depends(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def _bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts (short syntax)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            mounts[target] = source
    return mounts


def test_expected_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "postgres",
        "redis",
        "otel-collector",
        "migrate",
        *APP_SERVICES,
    }


def test_every_service_has_an_image_or_build(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "image" in service or "build" in service, name


def test_app_services_build_the_one_image(services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", *APP_SERVICES):
        build = services[name]["build"]
        assert (INFRA / build["context"] / build["dockerfile"]).resolve() == INFRA / "Dockerfile"
    commands = {name: services[name]["command"] for name in ("migrate", *APP_SERVICES)}
    assert commands == {
        "migrate": ["migrate"],
        "api": ["serve"],
        "worker": ["worker"],
        "scheduler": ["scheduler"],
    }


def test_app_services_wait_for_migrations(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        depends = _depends(services[name])
        assert depends.get("migrate") == "service_completed_successfully", name
        assert depends.get("postgres") == "service_healthy", name
        assert depends.get("redis") == "service_healthy", name
    assert _depends(services["migrate"]) == {"postgres": "service_healthy"}
    assert services["migrate"]["restart"] == "no"


def test_dependencies_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert set(_depends(service)) <= set(services), name


def test_postgres_15_creates_roles_from_roles_sql(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].split(":")[1].startswith("15")
    mounts = _bind_mounts(postgres)
    initdb = [t for t in mounts if t.startswith("/docker-entrypoint-initdb.d/")]
    roles = [t for t in initdb if (INFRA / mounts[t]).resolve() == INFRA / "postgres/roles.sql"]
    assert len(roles) == 1, "roles.sql must be mounted into /docker-entrypoint-initdb.d/"
    assert min(Path(t).name for t in initdb) == Path(roles[0]).name, "roles.sql must run first"
    assert "healthcheck" in postgres


def test_roles_sql_includes_are_mounted_beside_it(
    services: dict[str, dict[str, Any]],
) -> None:
    """psql resolves \\ir relative to the running script, i.e. inside the initdb directory."""
    roles_sql = INFRA / "postgres" / "roles.sql"
    if not roles_sql.exists():
        pytest.skip("infra/postgres/roles.sql not written yet")
    mounts = {
        (INFRA / source).resolve(): target
        for target, source in _bind_mounts(services["postgres"]).items()
    }
    for include in re.findall(r"^\\ir\s+(\S+)", roles_sql.read_text(), flags=re.MULTILINE):
        target = mounts.get((roles_sql.parent / include).resolve())
        assert target == f"/docker-entrypoint-initdb.d/{include}", include


def test_redis_and_collector(services: dict[str, dict[str, Any]]) -> None:
    assert services["redis"]["image"].startswith("redis:")
    assert "healthcheck" in services["redis"]
    mounts = _bind_mounts(services["otel-collector"])
    (config_path,) = mounts.values()
    config = yaml.safe_load((INFRA / config_path).read_text())
    assert "otlp" in config["receivers"]
    assert "debug" in config["exporters"]
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert "debug" in traces["exporters"]


def test_app_services_do_not_run_as_root(services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", *APP_SERVICES):
        service = services[name]
        user = str(service.get("user", ""))
        assert user, f"{name}: set user (the image's USER may be overridden)"
        assert user.split(":")[0] not in {"0", "root"}, name
        assert service.get("read_only") is True, name
        assert {"/tmp", "/app/var"} <= set(service.get("tmpfs", [])), name


def test_environment_names_match_the_contract(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = _env(services[name])
        assert set(env) >= APP_ENV, name
        assert set(env) - APP_ENV - OPTIONAL_ENV <= {
            key for key in env if key.startswith("OTEL_")
        }, name
        assert "MIGRATION_DATABASE_URL" not in env, f"{name} must not hold the owner credential"
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname == "otel-collector"
        assert env["OTEL_SERVICE_NAME"] == f"dealerhub-{name}"
    api = _env(services["api"])
    assert (api["HOST"], api["PORT"]) == ("0.0.0.0", "8000")
    assert "MIGRATION_DATABASE_URL" in _env(services["migrate"])


def test_database_urls_use_the_right_roles(services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", *APP_SERVICES):
        env = _env(services[name])
        app = urlsplit(env["DATABASE_URL"])
        assert (app.scheme, app.username, app.hostname, app.port, app.path) == (
            "postgresql",
            "dealerhub_app",
            "postgres",
            5432,
            "/dealerhub",
        ), name
        redis = urlsplit(env["REDIS_URL"])
        assert (redis.scheme, redis.hostname) == ("redis", "redis"), name
    owner = urlsplit(_env(services["migrate"])["MIGRATION_DATABASE_URL"])
    assert (owner.username, owner.hostname, owner.path) == (
        "dealerhub_owner",
        "postgres",
        "/dealerhub",
    )
