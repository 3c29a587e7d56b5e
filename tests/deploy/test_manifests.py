"""deploy/kubernetes renders (its base, each component, the example overlays) objects the Kubernetes API accepts
(checked against the official client's models, offline), runs only commands opsbot has, with probes, resources
and a locked-down security context on every container, and settings opsbot loads; the base starts no chat
frontend (a team adds the components it uses); every port a pod serves has a Service and a NetworkPolicy rule;
the policy is mounted where policy_file points; knowledge.chroma_url names the Chroma Service; the Ingress
routes to Services that exist; the Dockerfile builds the image those manifests run."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config.reference import keys
from bot.settings import Settings, load_settings
from policies.schema import DEFAULT_POLICY, load_policy
from sandbox.k8s_schema import check
from tests.support.kustomize import build

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
BASE, SLACK_ONLY, PUBLIC_HTTP = DEPLOY / "base", DEPLOY / "examples" / "slack-only", DEPLOY / "examples" / "public-http"
COMPONENTS = sorted(p.parent.name for p in (DEPLOY / "components").glob("*/kustomization.yaml"))
TREES = [BASE, SLACK_ONLY, PUBLIC_HTTP]
Obj = dict[str, Any]


def objects(root: Path = BASE) -> list[Obj]:
    return build(root)


def with_component(name: str) -> list[Obj]:
    """The base with one component, as an overlay listing it renders."""
    out = objects()
    component = yaml.safe_load((DEPLOY / "components" / name / "kustomization.yaml").read_text())
    for f in component["resources"]:
        out += [d for d in yaml.safe_load_all((DEPLOY / "components" / name / f).read_text()) if d]
    return out


def workloads(objs: list[Obj]) -> list[Obj]:
    return [o for o in objs if o["kind"] in ("Deployment", "StatefulSet")]


def opsbot_containers(objs: list[Obj]) -> list[tuple[Obj, Obj]]:
    return [(d, c) for d in workloads(objs) if d["metadata"]["labels"].get("app.kubernetes.io/name") == "opsbot"
            for c in d["spec"]["template"]["spec"]["containers"]]


def settings_of(objs: list[Obj], tmp: Path) -> Settings:
    cm = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "opsbot")
    path = tmp / "opsbot.yaml"
    path.write_text(cm["data"]["opsbot.yaml"])
    return load_settings(path)


def every_tree_object() -> list[tuple[str, Obj]]:
    seen = {}
    for tree in TREES:
        for o in objects(tree):
            seen[(o["kind"], o["metadata"]["name"], yaml.safe_dump(o))] = (tree.name, o)
    for o in yaml.safe_load_all((DEPLOY / "optional" / "secret-metadata.yaml").read_text()):
        seen[(o["kind"], o["metadata"]["name"], "")] = ("optional", o)
    return list(seen.values())


@pytest.mark.parametrize(("tree", "obj"), every_tree_object(), ids=lambda x: x if isinstance(x, str) else
                         f"{x['kind']}/{x['metadata']['name']}")
def test_every_object_is_valid_for_the_kubernetes_api(tree: str, obj: Obj) -> None:
    check(obj, f"V1{obj['kind']}", f"{tree}: {obj['kind']}/{obj['metadata']['name']}")


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_every_container_runs_an_opsbot_command_with_probes_limits_and_no_privileges(tree: Path) -> None:
    objs = objects(tree)
    for d in workloads(objs):
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert c["image"] != "opsbot", f"{d['metadata']['name']}: the image placeholder was not replaced"
            ports = {p["name"] for p in c["ports"]}
            probes = [c[p] for p in ("livenessProbe", "readinessProbe")]
            assert all(p.get("httpGet", p.get("tcpSocket", {})).get("port", "exec") in ports | {"exec"}
                       for p in probes), f"{d['metadata']['name']}: probes on named ports"
            assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
            assert c["securityContext"]["readOnlyRootFilesystem"]
            assert not c["securityContext"]["allowPrivilegeEscalation"]
            assert d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    for d, c in opsbot_containers(objs):
        result = CliRunner().invoke(app, [*c["args"], "--help"])
        assert result.exit_code == 0, f"{d['metadata']['name']}: opsbot {' '.join(c['args'])}: {result.output}"
        assert d["spec"]["template"]["spec"]["serviceAccountName"] == "opsbot"
        mounted = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/var/lib/opsbot", "/etc/opsbot"} <= mounted, "every path opsbot writes is a volume"


def test_the_base_starts_no_chat_frontend_and_each_component_starts_one() -> None:
    assert {tuple(c["args"]) for _, c in opsbot_containers(objects())} == {("serve",)}, \
        "a frontend in the base crash-loops for a team without its token"
    commands = {name: {" ".join(c["args"]) for _, c in opsbot_containers(with_component(name))} - {"serve"}
                for name in COMPONENTS}
    assert commands == {"slack": {"serve-slack --health-port 8081"},
                        "slack-http": {"serve-slack --http --health-port 8081"},
                        "telegram": {"serve-telegram --health-port 8081"},
                        "telegram-webhook": {"serve-telegram --webhook --health-port 8081"}}


def test_the_slack_only_overlay_runs_no_telegram_pod() -> None:
    names = {d["metadata"]["name"] for d in workloads(objects(SLACK_ONLY))}
    assert names == {"opsbot-webhooks", "opsbot-slack", "redis", "chroma"}
    assert not any("telegram" in " ".join(c["args"]) for _, c in opsbot_containers(objects(SLACK_ONLY)))


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_every_port_a_pod_serves_has_a_service_and_a_network_policy_rule(tree: Path, tmp_path: Path) -> None:
    objs = objects(tree)
    services = [o for o in objs if o["kind"] == "Service"]
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    for w in workloads(objs):
        labels = w["spec"]["template"]["metadata"]["labels"]
        for c in w["spec"]["template"]["spec"]["containers"]:
            for port in c["ports"]:
                where = f"{tree.name}: {w['metadata']['name']} port {port['name']} ({port['containerPort']})"
                allowed = [p for p in policies if _selects(p["spec"]["podSelector"]["matchLabels"], labels)
                           and any(r["port"] == port["containerPort"] for rule in p["spec"]["ingress"]
                                   for r in rule["ports"])]
                assert allowed, f"{where}: no NetworkPolicy rule lets anything reach it"
                if port["name"] == "health":
                    continue  # the kubelet's probes only
                exposed = [s for s in services if _selects(s["spec"]["selector"], labels)
                           and any(p["targetPort"] in (port["name"], port["containerPort"]) for p in s["spec"]["ports"])]
                assert exposed, f"{where}: no Service exposes it"
    s = settings_of(objs, tmp_path)  # the servers listen where the pods declare their ports
    declared = {" ".join(c["args"]): {p["containerPort"] for p in c["ports"]} for _, c in opsbot_containers(objs)}
    for command, port in [("serve", s.webhooks.port), ("serve-slack --http --health-port 8081", s.slack.port),
                          ("serve-telegram --webhook --health-port 8081", s.telegram.port)]:
        if command in declared:
            assert port in declared[command], f"{tree.name}: {command} listens on {port}"


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_the_policy_is_mounted_where_policy_file_points(tree: Path, tmp_path: Path) -> None:
    objs = objects(tree)
    settings = settings_of(objs, tmp_path)
    mount, key = settings.policy_file.parent, settings.policy_file.name
    for d, c in opsbot_containers(objs):
        volume = next(m["name"] for m in c["volumeMounts"] if Path(m["mountPath"]) == mount)
        spec = next(v for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] == volume)
        sources = [s["configMap"]["name"] for s in spec["projected"]["sources"]]
        held = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] in sources
                and key in o["data"]]
        assert len(held) == 1, f"{tree.name}: {d['metadata']['name']} has no {key} at {mount}"
        path = tmp_path / key
        path.write_text(held[0]["data"][key])
        policy = load_policy(path)
    if tree == BASE:
        assert held[0]["data"][key] == DEFAULT_POLICY.read_text(), "the base ships the image's default policy"
        assert set(policy.members) == {"opsbot:triage"}
    if tree == SLACK_ONLY:  # the team's own approvers, on the shipped rules, approving from the cards only
        default = load_policy(DEFAULT_POLICY)
        assert policy.rules == default.rules and policy.roles == default.roles and policy.guards == default.guards
        assert any("oncall-lead" in roles for who, roles in policy.members.items() if who.startswith("slack:"))
        assert not policy.cli.may_approve


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_knowledge_is_the_chroma_service_on_a_volume(tree: Path, tmp_path: Path) -> None:
    objs = objects(tree)
    url = urlsplit(settings_of(objs, tmp_path).knowledge.chroma_url or "")
    service = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == url.hostname)
    port = next(p for p in service["spec"]["ports"] if p["port"] == url.port)
    chroma = next(w for w in workloads(objs) if _selects(service["spec"]["selector"],
                                                         w["spec"]["template"]["metadata"]["labels"]))
    c = chroma["spec"]["template"]["spec"]["containers"][0]
    assert any(p["name"] == port["targetPort"] for p in c["ports"]) and c["image"].startswith("ghcr.io/opsbot-dev")
    assert chroma["kind"] == "StatefulSet" and chroma["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] in {
        m["name"] for m in c["volumeMounts"]}
    assert c["command"] == ["chroma"] and str(url.port) in c["args"], "the client's own chromadb serves it"


def test_the_ingress_routes_to_services_that_exist_and_to_opsbots_own_paths() -> None:
    objs = objects(PUBLIC_HTTP)
    ingress = next(o for o in objs if o["kind"] == "Ingress")
    services = {o["metadata"]["name"]: {p["name"] for p in o["spec"]["ports"]} for o in objs if o["kind"] == "Service"}
    routes = {p["path"]: p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    for path, backend in routes.items():
        assert backend["port"]["name"] in services.get(backend["name"], set()), path
    assert set(routes) == {"/webhooks/sentry", "/slack/events", "/telegram/webhook"}, "nothing else is public"
    slack = (ROOT / "bot" / "chat" / "frontends" / "slack.py").read_text()
    telegram = (ROOT / "bot" / "chat" / "frontends" / "telegram.py").read_text()
    assert "POST /slack/events" in slack and 'path: str = "/telegram/webhook"' in telegram


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: no real Kustomize to compare")
@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_the_python_renderer_is_what_kustomize_builds(tree: Path) -> None:
    real = subprocess.run(["kubectl", "kustomize", str(tree)], capture_output=True, text=True, check=True).stdout
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    assert sorted(objects(tree), key=key) == sorted((d for d in yaml.safe_load_all(real) if d), key=key)


def test_the_settings_and_the_secret_name_only_real_keys(tmp_path: Path) -> None:
    settings = settings_of(objects(), tmp_path)
    assert str(settings.knowledge.path) == "/var/lib/opsbot/knowledge" and settings.webhooks.host == "0.0.0.0"
    example = yaml.safe_load((DEPLOY / "secret.example.yaml").read_text())
    envs = {k.env for k in keys()}
    assert set(example["stringData"]) <= envs, sorted(set(example["stringData"]) - envs)


def test_the_role_is_bound_to_the_account_the_pods_run_as() -> None:
    objs = objects()
    binding = next(d for d in objs if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == next(d for d in objs if d["kind"] == "ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "opsbot", "namespace": "opsbot"}]
    optional = list(yaml.safe_load_all((DEPLOY / "optional" / "secret-metadata.yaml").read_text()))
    role, bound = (next(d for d in optional if d["kind"] == k) for k in ("Role", "RoleBinding"))
    assert "namespace" not in role["metadata"], "applied with -n into each namespace chosen"
    assert bound["roleRef"]["name"] == role["metadata"]["name"] and bound["subjects"] == binding["subjects"]


def test_the_dockerfile_copies_what_exists_and_runs_the_console_script_as_the_manifests_user() -> None:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines()]
    copied = [p for ln in lines if ln.startswith("COPY") for p in ln.split()[1:-1]]
    assert copied and all((ROOT / p).exists() for p in copied), copied
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {p.rstrip("*") for p in packages["include"]} <= set(copied), "every installed package is copied"
    assert 'ENTRYPOINT ["opsbot"]' in lines
    assert "opsbot" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    user = next(ln.split()[1] for ln in lines if ln.startswith("USER"))
    run_as = {w["spec"]["template"]["spec"]["securityContext"]["runAsUser"] for w in workloads(objects(PUBLIC_HTTP))
              if w["spec"]["template"]["spec"]["containers"][0]["image"].startswith("ghcr.io/opsbot-dev")}
    assert run_as == {int(user.split(":")[0])} and int(user.split(":")[0]) != 0
