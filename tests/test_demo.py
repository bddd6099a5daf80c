"""The demo OEM is a real, deterministic generator: same seed, same data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from dealerhub import demo
from tests.conftest import ROOT


def _seed_into(var_dir: Path, seed: int) -> Path:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL"}
    }
    env["DEALERHUB_VAR_DIR"] = str(var_dir)
    for command in (
        ["migrate"],
        ["seed-demo", "--seed", str(seed), "--customers-per-dealer", "20"],
    ):
        subprocess.run(
            [sys.executable, "-m", "dealerhub.cli", *command],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return var_dir / "dealerhub.sqlite3"


def _snapshot(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as connection:
        return {
            "regions": connection.execute("select code from region order by code").fetchall(),
            "dealers": connection.execute(
                "select code, name, time_zone from dealer order by code"
            ).fetchall(),
            "users": connection.execute(
                "select email, display_name, role from app_user order by email"
            ).fetchall(),
        }


def test_demo_is_deterministic_and_has_the_promised_shape(tmp_path) -> None:
    first = _snapshot(_seed_into(tmp_path / "a", seed=7))
    second = _snapshot(_seed_into(tmp_path / "b", seed=7))
    assert first == second
    assert len(first["regions"]) == 3
    assert len(first["dealers"]) >= 12
    roles = {role for _, _, role in first["users"]}
    assert {"oem_admin", "oem_analyst", "dealer_admin", "service_advisor", "cs_agent"} <= roles
    emails = {email for email, _, _ in first["users"]}
    assert {login.email for login in demo.printed_logins()} <= emails


def test_banner_lists_the_logins() -> None:
    text = demo.banner("http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000" in text and demo.DEMO_PASSWORD in text
    assert "hq-analyst@oem.demo" in text and "cs@d002.demo" in text
