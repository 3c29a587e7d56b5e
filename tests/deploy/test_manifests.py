"""deploy/kubernetes renders objects the Kubernetes API accepts (checked against the official client's models,
offline), runs only commands opsbot has, with probes, resources and a locked-down security context on every
container, and settings opsbot loads; the Dockerfile builds the image those manifests run."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config.reference import keys
from bot.settings import load_settings
from sandbox.k8s_schema import check

ROOT = Path(__file__).resolve().parent.parent.parent
BASE = ROOT / "deploy" / "kubernetes"


def objects() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return [d for name in kustomization["resources"] for d in yaml.safe_load_all((BASE / name).read_text()) if d]


def _containers(kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(d, c) for d in objects() if d["kind"] == kind for c in d["spec"]["template"]["spec"]["containers"]]


@pytest.mark.parametrize("obj", objects(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_object_is_valid_for_the_kubernetes_api(obj: dict[str, Any]) -> None:
    check(obj, f"V1{obj['kind']}", f"{obj['kind']}/{obj['metadata']['name']}")


def test_every_container_runs_an_opsbot_command_with_probes_limits_and_no_privileges() -> None:
    found = _containers("Deployment")
    assert {c["args"][0] for _, c in found} == {"serve", "serve-slack", "serve-telegram"}
    for d, c in found:
        result = CliRunner().invoke(app, [*c["args"], "--help"])
        assert result.exit_code == 0, f"{d['metadata']['name']}: opsbot {' '.join(c['args'])}: {result.output}"
        ports = {p["name"] for p in c["ports"]}
        for probe in ("livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"]["port"] in ports, f"{d['metadata']['name']}: {probe} on a named port"
        assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
        assert c["securityContext"]["readOnlyRootFilesystem"] and not c["securityContext"]["allowPrivilegeEscalation"]
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["serviceAccountName"] == "opsbot"
        mounted = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/var/lib/opsbot", "/etc/opsbot"} <= mounted, "every path opsbot writes is a volume"


def test_the_settings_and_the_secret_name_only_real_keys(tmp_path: Path) -> None:
    cm = next(d for d in objects() if d["kind"] == "ConfigMap")
    path = tmp_path / "opsbot.yaml"
    path.write_text(cm["data"]["opsbot.yaml"])
    settings = load_settings(path)
    assert str(settings.knowledge.path) == "/var/lib/opsbot/knowledge" and settings.webhooks.host == "0.0.0.0"
    example = yaml.safe_load((BASE / "secret.example.yaml").read_text())
    envs = {k.env for k in keys()}
    assert set(example["stringData"]) <= envs, sorted(set(example["stringData"]) - envs)


def test_the_role_is_bound_to_the_account_the_pods_run_as() -> None:
    binding = next(d for d in objects() if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == next(d for d in objects() if d["kind"] == "ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "opsbot", "namespace": "opsbot"}]


def test_the_dockerfile_copies_what_exists_and_runs_the_console_script_as_the_manifests_user() -> None:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines()]
    copied = [p for ln in lines if ln.startswith("COPY") for p in ln.split()[1:-1]]
    assert copied and all((ROOT / p).exists() for p in copied), copied
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {p.rstrip("*") for p in packages["include"]} <= set(copied), "every installed package is copied"
    assert 'ENTRYPOINT ["opsbot"]' in lines
    assert "opsbot" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    user = next(ln.split()[1] for ln in lines if ln.startswith("USER"))
    run_as = {d["spec"]["template"]["spec"]["securityContext"]["runAsUser"] for d in objects()
              if d["kind"] == "Deployment"}
    assert run_as == {int(user.split(":")[0])} and int(user.split(":")[0]) != 0
