"""The ClusterRole in deploy/kubernetes and its opt-in Secret Role grant exactly the API calls opsbot's tools
make: every tool runs against the Kubernetes emulator (reads on every kind, each mutation's preview and its
execution), the emulator's request log says which verbs on which resources were used, and the rules must allow
those and nothing else; Secrets are the opt-in's alone. With the emulator enforcing the ClusterRole, Secrets
are "not readable with opsbot's RBAC" in words, and a pod's Secret reference is unknown, never missing."""

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
from sandbox.k8s_rbac import grant
from tests.support.doors import make_door
from tests.support.every_kind import EVERY_KIND
from tools.k8s_api import NOT_READABLE, SECRETS_OPT_IN
from tools.k8s_kinds import KINDS

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy" / "kubernetes"
RBAC, SECRETS = DEPLOY / "base" / "rbac.yaml", DEPLOY / "optional" / "secret-metadata.yaml"
Rule = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def rules(path: Path, kind: str) -> list[dict]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == kind)["rules"]


def allowed(role: list[dict]) -> set[Rule]:
    return {(g, r, v) for rule in role for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def used(state: Path, port: int) -> set[Rule]:
    return {g.rule for m, p in k8s.recorded_requests(state, port) if (g := grant(m, p))}


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
    for scope in ({"namespace": "shop"}, {}):  # every kind of object, one namespace's and every namespace's
        changed = door.run("k8s_changes", {**scope, "since": "30d"}, who)
        assert changed.status.value in ("success", "no_data"), changed.error
    door.run("k8s_pod_logs", {"namespace": "batch", "pod": "db-migrate", "previous": True}, who)


def _mutate_everything(door: Door, who: Caller) -> None:
    """Each mutation proposed (its preview reads), then run as an approved execution runs it."""
    def a_pod() -> dict[str, str]:  # one of checkout's pods now (a restart or a rollback replaces them)
        pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, who).data["pods"]
        return {"namespace": "shop", "pod": pods[0]["name"]}

    for tool, args in [("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4}),
                       ("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_delete_pod", None)]:
        args = args or a_pod()
        door.run(tool, args, who)
        t = door.tools[tool]
        result = invoke(t, door.ctx, t.args.model_validate(args), who.identity)
        assert result.status.value == "success", f"{tool}: {result.error}"


def test_the_cluster_role_and_the_secret_opt_in_allow_exactly_what_the_tools_call(
        cluster: tuple[Path, int], settings: Settings) -> None:
    state, port = cluster
    k8s.enforce_rbac(state, port, None)
    who = Caller(identity="cli:rbac-test")
    every = scenario.load(str(EVERY_KIND))
    k8s.load(state, port, every, every.t0(time.time()))
    _read_everything(_door(settings, state), who)
    calls = used(state, port)
    k8s.load(state, port, scenario.load("crashloop-missing-env"), time.time())  # a deployment with 2 revisions
    _mutate_everything(_door(settings, state), who)
    calls |= used(state, port)
    base, secrets = allowed(rules(RBAC, "ClusterRole")), allowed(rules(SECRETS, "Role"))
    assert not calls - base - secrets, f"the tools call what the roles refuse: {sorted(calls - base - secrets)}"
    assert not (base | secrets) - calls, f"the roles grant what no tool calls: {sorted((base | secrets) - calls)}"
    assert {r for _, r, _ in secrets} == {"secrets"} and not {r for _, r, _ in base} & {"secrets"}, \
        "the ClusterRole reads no Secret; the opt-in Role reads Secrets only"


def test_under_the_cluster_role_secrets_are_not_readable_in_words_and_never_missing(
        cluster: tuple[Path, int], settings: Settings) -> None:
    state, port = cluster
    every = scenario.load(str(EVERY_KIND))
    k8s.load(state, port, every, every.t0(time.time()))
    k8s.enforce_rbac(state, port, rules(RBAC, "ClusterRole"))
    door, who = _door(settings, state), Caller(identity="cli:rbac-test")
    try:
        listed = door.run("k8s_list", {"kind": "Secret", "namespace": "batch"}, who)
        assert listed.status.value == "error" and listed.error.startswith(
            f"{NOT_READABLE}: the Secrets in namespace 'batch' (the API server answered 403 Forbidden); "
            f"{SECRETS_OPT_IN}")
        described = door.run("k8s_describe", {"kind": "Secret", "name": "db-credentials", "namespace": "batch"}, who)
        assert described.status.value == "error" and described.error.startswith(
            f"{NOT_READABLE}: Secret batch/db-credentials (the API server answered 403 Forbidden)")
        assert "could not reach" not in listed.error + described.error and "hunter2" not in str(described)
        pod = door.run("k8s_list", {"kind": "Pod", "namespace": "batch"}, who).data["pods"][0]["name"]
        refs = door.run("k8s_describe", {"kind": "Pod", "name": pod, "namespace": "batch"}, who).data["config_refs"]
        assert {"kind": "Secret", "name": "db-credentials", "used_by": "env DB_PASSWORD", "exists": None,
                "readable": False, "note": NOT_READABLE, "key": "password"} in refs
        assert door.run("k8s_list", {"kind": "ConfigMap", "namespace": "shop"}, who).status.value == "success"
        changed = door.run("k8s_changes", {"namespace": "batch", "since": "30d"}, who)  # the rest, and a word
        assert changed.status.value in ("success", "no_data") and f"{NOT_READABLE}: the Secrets in batch" in \
            changed.notice, changed.error

        k8s.enforce_rbac(state, port, [*rules(RBAC, "ClusterRole"),
                                       *({**r, "namespaces": ["batch"]} for r in rules(SECRETS, "Role"))])
        listed = door.run("k8s_list", {"kind": "Secret", "namespace": "batch"}, who)
        assert listed.status.value == "success" and "hunter2" not in str(listed), listed.error
        refs = door.run("k8s_describe", {"kind": "Pod", "name": pod, "namespace": "batch"}, who).data["config_refs"]
        assert {"kind": "Secret", "name": "db-credentials", "used_by": "env DB_PASSWORD", "exists": True,
                "key": "password", "key_exists": True} in refs
        everywhere = door.run("k8s_list", {"kind": "Secret"}, who)  # the Role is one namespace's
        assert everywhere.status.value == "error" and NOT_READABLE in everywhere.error
    finally:
        k8s.enforce_rbac(state, port, None)
