"""The ClusterRole in deploy/kubernetes grants exactly the API calls opsbot's tools make: every tool runs
against the Kubernetes emulator (reads on every kind, each mutation's preview and its execution), the
emulator's request log says which verbs on which resources were used, and the rules must allow those and
nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.guard.door import Caller, Door
from bot.guard.invoke import invoke
from bot.settings import Settings
from sandbox import k8s, procs, scenario
from tests.support.doors import make_door
from tests.support.every_kind import EVERY_KIND
from tools.k8s_kinds import KINDS

RBAC = Path(__file__).resolve().parent.parent.parent / "deploy" / "kubernetes" / "rbac.yaml"
VERBS = {"GET": "get", "PATCH": "patch", "DELETE": "delete", "POST": "create", "PUT": "update"}
Grant = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def grant(method: str, path: str) -> Grant | None:
    """What RBAC calls a request: /apis/apps/v1/namespaces/shop/deployments/web/scale → (apps,
    deployments/scale, get); discovery (/version, /api, /apis) needs no rule."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) > 2:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) > 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if rest[0] == "namespaces" and len(rest) > 2:
        rest = rest[2:]  # a namespaced object; /namespaces and /namespaces/NAME are the Namespace kind itself
    resource, named, sub = rest[0], len(rest) > 1, rest[2:3]
    verb = "list" if method == "GET" and not named else VERBS[method]
    return group, "/".join([resource, *sub]), verb


def allowed() -> set[Grant]:
    role = next(d for d in yaml.safe_load_all(RBAC.read_text()) if d["kind"] == "ClusterRole")
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
            for v in rule["verbs"]}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    state, port = tmp_path_factory.mktemp("rbac-k8s"), procs.free_port()
    k8s.start(state, port)
    yield state, port
    procs.stop(k8s.NAME, state)


def _door(settings: Settings, state: Path) -> Door:
    return make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})}))


def _read_everything(door: Door, who: Caller) -> None:
    for kind, info in KINDS.items():
        for scope in ([{"namespace": "shop"}, {}] if info.namespaced else [{}]):
            listed = door.run("k8s_list", {"kind": kind, **scope}, who)
            rows = (listed.data or {}).get("pods" if kind == "Pod" else "items", []) if listed.data else []
            for row in rows[:1]:
                ns = {"namespace": row.get("namespace", scope.get("namespace"))} if info.namespaced else {}
                door.run("k8s_describe", {"kind": kind, "name": row["name"], **ns}, who)
    door.run("k8s_list", {"namespace": "shop", "deployment": "web"}, who)
    door.run("k8s_events", {"namespace": "shop"}, who)
    door.run("k8s_events", {"namespace": "shop", "kind": "Deployment", "object_name": "web"}, who)
    door.run("k8s_pod_logs", {"namespace": "shop", "pod": "web"}, who)
    door.run("k8s_pod_logs", {"namespace": "batch", "pod": "db-migrate", "previous": True}, who)


def _mutate_everything(door: Door, who: Caller) -> None:
    """Each mutation proposed (its preview reads), then run as an approved execution runs it."""
    pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, who).data["pods"]
    for tool, args in [("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4}),
                       ("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_delete_pod", {"namespace": "shop", "pod": pods[0]["name"]})]:
        door.run(tool, args, who)
        t = door.tools[tool]
        result = invoke(t, door.ctx, t.args.model_validate(args), who.identity)
        assert result.status.value == "success", f"{tool}: {result.error}"


def test_the_cluster_role_allows_exactly_what_the_tools_call(cluster: tuple[Path, int], settings: Settings) -> None:
    state, port = cluster
    who = Caller(identity="cli:rbac-test")
    every = scenario.load(str(EVERY_KIND))
    k8s.load(state, port, every, every.t0(time.time()))
    _read_everything(_door(settings, state), who)
    used = {g for m, p in k8s.recorded_requests(state, port) if (g := grant(m, p))}
    k8s.load(state, port, scenario.load("crashloop-missing-env"), time.time())  # a deployment with 2 revisions
    _mutate_everything(_door(settings, state), who)
    used |= {g for m, p in k8s.recorded_requests(state, port) if (g := grant(m, p))}
    assert not used - allowed(), f"the tools call what the ClusterRole refuses: {sorted(used - allowed())}"
    assert not allowed() - used, f"the ClusterRole grants what no tool calls: {sorted(allowed() - used)}"
