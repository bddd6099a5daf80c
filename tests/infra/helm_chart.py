"""Render, lint and schema-check the Helm chart offline.

Uses the ``helm`` binary when it is on PATH, else helm-python-sdk (``helm_python``), which
embeds Helm's Go SDK and needs neither a binary nor network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "dealerhub"
CI_VALUES_DIR = CHART_DIR / "ci"
# The Kubernetes version manifests are linted and validated for (kubernetes-validate ships
# its schemas); Chart.yaml's kubeVersion allows >= 1.27.
KUBE_VERSION = "1.31.0"
RELEASE = "dealerhub"
NAMESPACE = "dealerhub"


class ChartError(Exception):
    """Helm refused the values or failed to render."""


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and the template it came from."""

    source: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])


def helm_binary() -> str | None:
    """Path of the helm binary, or None to use the SDK."""
    return shutil.which("helm")


def load_values(path: Path) -> dict[str, Any]:
    """A values file as a dict (an empty file is no overrides)."""
    return yaml.safe_load(path.read_text()) or {}


def _run_helm(*args: str, values: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    binary = helm_binary()
    assert binary is not None
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(values, handle)  # JSON is YAML, so helm reads it as a values file
        handle.flush()
        return subprocess.run(
            [binary, *args, "--values", handle.name],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def _parse(source: str, text: str) -> list[Manifest]:
    return [
        Manifest(source, doc)
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict) and doc.get("kind")
    ]


def render(values: dict[str, Any]) -> list[Manifest]:
    """Every object an install with ``values`` would create, hooks included."""
    if helm_binary():
        proc = _run_helm(
            "template",
            RELEASE,
            str(CHART_DIR),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            values=values,
        )
        if proc.returncode != 0:
            raise ChartError(proc.stderr)
        manifests: list[Manifest] = []
        for chunk in proc.stdout.split("\n---"):
            source = next(
                (
                    line.removeprefix("# Source: ")
                    for line in chunk.splitlines()
                    if line.startswith("# Source: ")
                ),
                "?",
            )
            manifests.extend(_parse(source, chunk))
        return manifests

    import helm_python

    try:
        with helm_python.Chart.load(CHART_DIR) as chart:
            rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    except helm_python.HelmError as exc:
        raise ChartError(str(exc)) from exc
    return [
        manifest
        for source, text in sorted(rendered.items())
        if source.endswith((".yaml", ".yml"))
        for manifest in _parse(source, text)
    ]


def lint(values: dict[str, Any]) -> list[str]:
    """Findings of a strict lint (warnings count) with ``values``; empty when clean."""
    if helm_binary():
        proc = _run_helm(
            "lint", str(CHART_DIR), "--strict", "--kube-version", KUBE_VERSION, values=values
        )
        findings = [
            line.strip()
            for line in proc.stdout.splitlines()
            if line.strip().startswith(("[ERROR]", "[WARNING]"))
        ]
        if proc.returncode != 0 and not findings:
            findings.append(proc.stderr.strip() or proc.stdout.strip())
        return findings

    import helm_python

    report = helm_python.lint(
        CHART_DIR, values, strict=True, namespace=NAMESPACE, kube_version=f"v{KUBE_VERSION}"
    )
    findings = [
        f"[{message['path']}] {message['error']}"
        for message in report["messages"]
        if message["severity"] >= 2
    ]
    return findings + [error for error in report["errors"] if not any(error in f for f in findings)]


def schema_error(values: dict[str, Any]) -> str | None:
    """Why values.schema.json rejects ``values``, or None when it accepts them."""
    if helm_binary():
        try:
            render(values)
        except ChartError as exc:
            return str(exc)
        return None

    import helm_python

    with helm_python.Chart.load(CHART_DIR) as chart:
        try:
            chart.validate_schema(values)
        except helm_python.HelmValuesError as exc:
            return str(exc)
    return None
