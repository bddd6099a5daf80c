"""The Helm chart: lint, schema, render with every ci/ value set, validate every object."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from .helm_chart import (
    CHART_DIR,
    CI_VALUES_DIR,
    KUBE_VERSION,
    Manifest,
    lint,
    load_values,
    render,
    schema_error,
)

CI_FILES = ("default-values.yaml", "production-values.yaml", "minimal-values.yaml")
SECRET_ENV = {"DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CHANNEL_KEY"}
APP_SECRET_ENV = SECRET_ENV - {"MIGRATION_DATABASE_URL"}
WORKLOAD_KINDS = {"Deployment", "Job"}


@pytest.fixture(scope="module", params=CI_FILES)
def ci_file(request: pytest.FixtureRequest) -> Path:
    return CI_VALUES_DIR / request.param


@pytest.fixture(scope="module")
def manifests(ci_file: Path) -> list[Manifest]:
    return render(load_values(ci_file))


def _one(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    matches = [m.body for m in manifests if m.kind == kind and m.name == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, got {len(matches)}"
    return matches[0]


def _pod_specs(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    return {
        f"{m.kind}/{m.name}": m.body["spec"]["template"]["spec"]
        for m in manifests
        if m.kind in WORKLOAD_KINDS
    }


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def test_ci_value_sets_exist() -> None:
    assert sorted(p.name for p in CI_VALUES_DIR.glob("*.yaml")) == sorted(CI_FILES)


def test_lint_is_clean_in_strict_mode(ci_file: Path) -> None:
    assert lint(load_values(ci_file)) == []


def test_schema_accepts_ci_values(ci_file: Path) -> None:
    assert schema_error(load_values(ci_file)) is None


@pytest.mark.parametrize(
    "values",
    [
        {"api": {"replicas": 3}},
        {"imag": {"tag": "1.0"}},
        {"worker": {"autoscaling": {"enable": True}}},
        {"scheduler": {"replicaCount": 2}},
        {"image": {"pullPolicy": "Sometimes"}},
        {"secrets": {"databaseUrl": {"existingSecret": ""}}},
        {"secrets": {"secretKey": {"value": "inline-secret"}}},
        {"config": {"env": {"SECRET_KEY": "inline-secret"}}},
        {"otel": {"enabled": True}},
        {"ingress": {"enabled": True, "hosts": [{"host": "x.example", "paths": [{"path": "/"}]}]}},
    ],
    ids=lambda v: next(iter(v)),
)
def test_schema_rejects_typos_and_inline_secrets(values: dict[str, Any]) -> None:
    assert schema_error(values) is not None


def test_every_object_validates_against_kubernetes_schema(manifests: list[Manifest]) -> None:
    assert manifests
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest.body, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{manifest.source} {manifest.kind}/{manifest.name}: {path}: {exc.message}")


def test_expected_objects(ci_file: Path, manifests: list[Manifest]) -> None:
    kinds = Counter(m.kind for m in manifests)
    assert kinds["Deployment"] == 3
    assert kinds["Service"] == 1
    assert kinds["ConfigMap"] == 1
    assert kinds["Job"] == 1
    assert kinds["Secret"] == 0, "the chart must reference secrets, never create them"
    expected = {
        "default-values.yaml": {
            "HorizontalPodAutoscaler": 1,
            "PodDisruptionBudget": 1,
            "ServiceAccount": 1,
            "Ingress": 0,
        },
        "production-values.yaml": {
            "HorizontalPodAutoscaler": 2,
            "PodDisruptionBudget": 2,
            "ServiceAccount": 1,
            "Ingress": 1,
        },
        "minimal-values.yaml": {
            "HorizontalPodAutoscaler": 0,
            "PodDisruptionBudget": 0,
            "ServiceAccount": 0,
            "Ingress": 0,
        },
    }[ci_file.name]
    assert {kind: kinds[kind] for kind in expected} == expected


def test_pods_run_hardened(manifests: list[Manifest]) -> None:
    for where, spec in _pod_specs(manifests).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["runAsNonRoot"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert container["resources"]["requests"], where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            for path in ("/tmp", "/app/var"):
                assert path in mounts, f"{where}: {path} not writable"
                assert "emptyDir" in volumes[mounts[path]], where


def test_one_image_one_subcommand_per_process(manifests: list[Manifest]) -> None:
    commands = {}
    images = set()
    for spec in _pod_specs(manifests).values():
        (container,) = spec["containers"]
        assert "command" not in container, "the image's entrypoint (dealerhub) must be kept"
        commands[container["name"]] = container["args"][0]
        images.add(container["image"])
    assert commands == {
        "api": "serve",
        "worker": "worker",
        "scheduler": "scheduler",
        "migrate": "migrate",
    }
    assert len(images) == 1


def test_rendered_arguments_are_accepted_by_the_cli(
    manifests: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each container's args parse with the real `dealerhub` CLI and reach its subcommand."""
    from dealerhub import cli

    called: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(cli, "_settings_or_exit", lambda: None)
    for command in ("serve", "worker", "scheduler", "migrate"):
        monkeypatch.setattr(
            cli, command, lambda *args, _c=command: called.append((_c, args)), raising=True
        )
    for where, spec in _pod_specs(manifests).items():
        (container,) = spec["containers"]
        called.clear()
        cli.main(container["args"])
        assert [name for name, _ in called] == [container["args"][0]], where
        if container["name"] == "worker":
            args = container["args"]
            expected = (
                int(args[args.index("--processes") + 1]),
                int(args[args.index("--threads") + 1]),
            )
            assert called[0][1] == expected


def test_api_probes_service_and_scaling_target_the_api(manifests: list[Manifest]) -> None:
    deployment = _one(manifests, "Deployment", "dealerhub-api")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert [p["name"] for p in container["ports"]] == ["http"]

    service = _one(manifests, "Service", "dealerhub-api")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    hpas = {m.name: m.body for m in manifests if m.kind == "HorizontalPodAutoscaler"}
    if "dealerhub-api" in hpas:
        target = hpas["dealerhub-api"]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", "dealerhub-api")
        assert hpas["dealerhub-api"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    else:
        assert deployment["spec"]["replicas"] >= 1
    for pdb in (m.body for m in manifests if m.kind == "PodDisruptionBudget"):
        if pdb["metadata"]["name"] == "dealerhub-api":
            assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for ingress in (m.body for m in manifests if m.kind == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"] == {
                    "name": "dealerhub-api",
                    "port": {"name": "http"},
                }


def test_selectors_match_pod_labels(manifests: list[Manifest]) -> None:
    for manifest in manifests:
        if manifest.kind == "Deployment":
            selector = manifest.body["spec"]["selector"]["matchLabels"]
            labels = manifest.body["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), manifest.name
            assert selector["app.kubernetes.io/component"] == manifest.name.rsplit("-", 1)[1]


def test_scheduler_is_a_singleton(manifests: list[Manifest]) -> None:
    scheduler = _one(manifests, "Deployment", "dealerhub-scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    scaled = {
        m.body["spec"]["scaleTargetRef"]["name"]
        for m in manifests
        if m.kind == "HorizontalPodAutoscaler"
    }
    assert "dealerhub-scheduler" not in scaled


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(manifests: list[Manifest]) -> None:
    job = _one(manifests, "Job", "dealerhub-migrate")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert "envFrom" not in container, "hooks run before the chart's ConfigMap exists"
    env = _env(container)
    assert "secretKeyRef" in env["MIGRATION_DATABASE_URL"]["valueFrom"]


def test_only_the_migration_job_holds_the_owner_credential(manifests: list[Manifest]) -> None:
    for where, spec in _pod_specs(manifests).items():
        (container,) = spec["containers"]
        env = _env(container)
        if where == "Job/dealerhub-migrate":
            assert env.keys() >= SECRET_ENV
        else:
            assert "MIGRATION_DATABASE_URL" not in env, where
            assert env.keys() >= APP_SECRET_ENV, where


def test_secrets_come_from_secret_refs_only(ci_file: Path, manifests: list[Manifest]) -> None:
    defaults = load_values(CHART_DIR / "values.yaml")["secrets"]
    overrides = load_values(ci_file).get("secrets", {})
    refs = {key: {**ref, **overrides.get(key, {})} for key, ref in defaults.items()}
    by_env = {
        "DATABASE_URL": refs["databaseUrl"],
        "MIGRATION_DATABASE_URL": refs["migrationDatabaseUrl"],
        "REDIS_URL": refs["redisUrl"],
        "SECRET_KEY": refs["secretKey"],
        "CHANNEL_KEY": refs["channelKey"],
    }
    for where, spec in _pod_specs(manifests).items():
        for name, item in _env(spec["containers"][0]).items():
            if name in SECRET_ENV:
                assert "value" not in item, f"{where}: {name} inlined"
                ref = item["valueFrom"]["secretKeyRef"]
                expected = by_env[name]
                assert (ref["name"], ref["key"]) == (expected["existingSecret"], expected["key"])
    config = _one(manifests, "ConfigMap", "dealerhub-config")
    assert not SECRET_ENV & config["data"].keys()


def test_configmap_carries_otel_settings(ci_file: Path, manifests: list[Manifest]) -> None:
    data = _one(manifests, "ConfigMap", "dealerhub-config")["data"]
    assert data["HOST"] == "0.0.0.0"
    assert data["PORT"] == "8000"
    if load_values(ci_file).get("otel", {}).get("enabled"):
        assert data["OTEL_TRACES_EXPORTER"] == "otlp"
        assert data["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http")
    else:
        assert data["OTEL_TRACES_EXPORTER"] == "none"
    for spec in _pod_specs(manifests).values():
        (container,) = spec["containers"]
        assert _env(container)["OTEL_SERVICE_NAME"]["value"] == f"dealerhub-{container['name']}"


def test_renders_without_network_or_charts_directory() -> None:
    """External PostgreSQL/Redis: nothing to fetch, so the chart renders from a clean tree."""
    assert not (CHART_DIR / "charts").exists()
    assert not (CHART_DIR / "Chart.lock").exists()
    assert render({})
