"""The Dockerfile: multi-stage, locked uv install, non-root, read-only-root friendly."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "infra" / "Dockerfile"


@dataclass
class Stage:
    """One FROM ... [AS name] block and its instructions as (INSTRUCTION, arguments)."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages of a Dockerfile (continuations joined)."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical.splitlines():
        if not line.strip():
            continue
        instruction, _, args = line.strip().partition(" ")
        instruction = instruction.upper()
        args = " ".join(args.split())
        if instruction == "FROM":
            words = args.split()
            base = re.sub(
                r"\$\{(\w+)\}", lambda m: global_args.get(m.group(1), m.group(0)), words[0]
            )
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif not stages and instruction == "ARG":
            key, _, default = args.partition("=")
            global_args[key] = default
        elif stages:
            stages[-1].instructions.append((instruction, args))
    return global_args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())[1]


def test_multi_stage_builder_and_slim_runtime(stages: list[Stage]) -> None:
    names = [stage.name for stage in stages]
    assert "builder" in names
    runtime = stages[-1]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", runtime.base), runtime.base
    builder = stages[names.index("builder")]
    assert builder.base == runtime.base, "same interpreter path, or the copied venv breaks"
    assert any("--from=builder" in args for args in runtime.args("COPY"))


def test_builder_installs_the_locked_dependencies_with_uv(stages: list[Stage]) -> None:
    builder = next(stage for stage in stages if stage.name == "builder")
    runs = " ".join(builder.args("RUN"))
    syncs = re.findall(r"uv sync[^&;]*", runs)
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
    assert "uv.lock" in runs or any("uv.lock" in a for a in builder.args("COPY"))


def test_runtime_runs_as_non_root(stages: list[Stage]) -> None:
    users = stages[-1].args("USER")
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "use a numeric uid so runAsNonRoot can verify it"


def test_runtime_has_no_build_tools(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert not any("uv" in args.split()[0] for args in runtime.args("RUN"))
    assert not any("--from=uv" in args for args in runtime.args("COPY"))


def test_read_only_root_friendly_and_entry_point(stages: list[Stage]) -> None:
    runtime = stages[-1]
    (volumes,) = runtime.args("VOLUME")
    assert set(json.loads(volumes)) == {"/tmp", "/app/var"}
    (entrypoint,) = runtime.args("ENTRYPOINT")
    assert json.loads(entrypoint)[-1] == "dealerhub"
    (cmd,) = runtime.args("CMD")
    assert json.loads(cmd) == ["serve"]
    env = " ".join(runtime.args("ENV"))
    assert "HOST=0.0.0.0" in env and "PORT=8000" in env
    assert runtime.args("EXPOSE") == ["8000"]


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list: ignore everything, then re-include"
    for needed in ("pyproject.toml", "uv.lock", "README.md", "dealerhub/"):
        assert f"!{needed}" in lines
    copied = {
        word
        for stage in parse(DOCKERFILE.read_text())[1]
        for args in stage.args("COPY")
        if "--from=" not in args
        for word in shlex.split(args)[:-1]
        if not word.startswith("--")
    }
    for path in copied:
        assert f"!{path.rstrip('/')}" in lines or f"!{path.rstrip('/')}/" in lines, path
