"""Settings come from the environment; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dealerhub.platform.config import SettingsError, load_settings
from tests.conftest import ROOT


def test_embedded_defaults(tmp_path) -> None:
    settings = load_settings({"DEALERHUB_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'dealerhub.sqlite3'}"
    assert settings.redis_url is None
    assert settings.port == 8000
    assert len(settings.secret_key) >= 32
    # the generated key survives a restart
    assert load_settings({"DEALERHUB_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://localhost"),
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("SECRET_KEY", "short"),
        ("DEALERHUB_SECURE_COOKIES", "maybe"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"DEALERHUB_VAR_DIR": str(tmp_path), name: value})
    assert str(error.value).startswith(f"{name}:")


def test_cli_stops_with_one_line(tmp_path) -> None:
    env = {**os.environ, "DEALERHUB_VAR_DIR": str(tmp_path), "PORT": "eighty"}
    completed = subprocess.run(
        [sys.executable, "-m", "dealerhub.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "dealerhub: configuration error: PORT: expected a whole number, got 'eighty'"
    ]
