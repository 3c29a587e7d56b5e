"""deploy/kubernetes' ClusterRole and opt-in Secret Role as the Kubernetes emulator enforces them: Secrets are "not
readable with opsbot's RBAC" in words, and a pod's Secret reference is unknown, never missing. (That the roles
grant exactly what the tools call is proven against the real API server's authorizer and audit log:
tests/controlplane/test_rbac_audit.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox import k8s, procs, scenario
from sandbox.k8s_identity import DEPLOY
from tests.support.doors import make_door
from tests.support.every_kind import EVERY_KIND
from tools.k8s_api import NOT_READABLE, SECRETS_OPT_IN

RBAC, SECRETS = DEPLOY / "base" / "rbac.yaml", DEPLOY / "optional" / "secret-metadata.yaml"


def rules(path: Path, kind: str) -> list[dict]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == kind)["rules"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    state, port = tmp_path_factory.mktemp("rbac-k8s"), procs.free_port()
    k8s.start(state, port)
    yield state, port
    procs.stop(k8s.NAME, state)


def _door(settings: Settings, state: Path) -> Door:
    return make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})}))


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
