"""The sandbox on the real control plane honours what the scenario says beyond its first moment: a new pod of a
failing template fails again (a crash loop whose restart count grows) until a rollback fixes it, each object is
as old as the scenario says and its field managers are the scenario's, and the StatefulSet controller keeps the
copied pods (their revision label is the name it computes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client

from bot.guard.door import Caller
from sandbox import k8s, scenario
from sandbox.controlplane_cluster import SCENARIO_STATUS
from sandbox.k8s_copy import emulator_client
from sandbox.k8s_statefulset import revision_name
from tests.controlplane.conftest import RealSandbox
from tests.support.alerting import wait_for
from tests.support.doors import OPERATOR, SCENARIO, make_door
from tools.base import Status

WHO = Caller(identity="cli:controlplane-test")
SETTLE = 90  # seconds: the controllers and kwok act within a few; a crash-looping pod restarts every 10 s


@pytest.fixture
def reloaded(real_sandbox: RealSandbox) -> Iterator[RealSandbox]:
    """The real sandbox, with its scenario loaded again after a test that changes it."""
    yield real_sandbox
    real_sandbox.sandbox.load(scenario.load(SCENARIO))


def _approved(rs: RealSandbox, tool: str, args: dict[str, Any], approvers: tuple[str, ...] = ("slack:U0LEAD",),
              ) -> None:
    door = make_door(rs.settings)
    asked = door.run(tool, args, OPERATOR)
    assert asked.status == Status.approval_required, asked.error
    for approver in approvers:
        decided = door.gate.decide(asked.data["action_id"], approver, approve=True)
        assert decided.ok, decided.message
    assert decided.action and decided.action.state == "executed", decided.message


def _new_pods(rs: RealSandbox, app: str) -> list[client.V1Pod]:
    """The live pods the controllers made since the load (the scenario's carry its status annotation)."""
    return [p for p in rs.core.list_namespaced_pod("shop", label_selector=f"app={app}").items
            if SCENARIO_STATUS not in (p.metadata.annotations or {}) and p.metadata.deletion_timestamp is None]


def _restarts(pod: client.V1Pod) -> int | None:
    """The crash-looping container's restart count, None unless it is in CrashLoopBackOff."""
    for c in pod.status.container_statuses or []:
        if c.state.waiting and c.state.waiting.reason == "CrashLoopBackOff":
            return c.restart_count
    return None


def test_a_restarted_crash_loop_crash_loops_again_with_a_growing_restart_count_until_rolled_back(
        reloaded: RealSandbox) -> None:
    _approved(reloaded, "k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"})
    first = wait_for(lambda: [p for p in _new_pods(reloaded, "checkout") if _restarts(p)], SETTLE,
                     "the restart's new pod to crash-loop")[0]
    assert first.status.container_statuses[0].last_state.terminated.reason == "Error"
    name, before = first.metadata.name, _restarts(first)
    wait_for(lambda: (_restarts(reloaded.core.read_namespaced_pod(name, "shop")) or 0) > before, SETTLE,
             "the new pod's restart count to grow")
    listed = make_door(reloaded.settings).run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, WHO)
    assert listed.status == Status.success, listed.error
    assert next(p for p in listed.data["pods"] if p["name"] == name)["status"] == "CrashLoopBackOff"

    # the rollback brings back revision 1's template, whose pods ran: the cause is gone, the new pods run
    _approved(reloaded, "k8s_rollback", {"namespace": "shop", "deployment": "checkout", "to_revision": 1},
              approvers=("slack:U0LEAD", "slack:U0ADMIN"))  # sandbox/policy.yaml: a rollback needs two
    wait_for(lambda: any(p.status.phase == "Running" and not _restarts(p) and all(
        c.ready for c in p.status.container_statuses or [False]) for p in _new_pods(reloaded, "checkout")),
        SETTLE, "the rolled-back template's pods to run")


def test_objects_are_as_old_as_the_scenario_says_and_keep_its_field_managers(real_sandbox: RealSandbox) -> None:
    now = datetime.now(UTC)
    revisions = {rs.metadata.annotations["deployment.kubernetes.io/revision"]: rs.metadata.creation_timestamp
                 for rs in real_sandbox.apps.list_namespaced_replica_set("shop", label_selector="app=checkout").items}
    # crashloop-missing-env: revision 1 of checkout was made 6 days before, revision 2 25 minutes before
    assert now - revisions["1"] > timedelta(days=5), revisions
    assert timedelta(minutes=20) < now - revisions["2"] < timedelta(hours=1), revisions
    changes = make_door(real_sandbox.settings).run("k8s_changes", {"namespace": "shop"}, WHO)
    assert changes.status == Status.success, changes.error
    rollout = next(c for c in changes.data["changes"] if "rollout to revision 2" in c["what"])
    assert now - datetime.fromisoformat(rollout["at"]) > timedelta(minutes=20), rollout

    with emulator_client(k8s.kubeconfig_path(real_sandbox.sandbox.dir / k8s.LOADER)) as loader:
        emulated = {d["metadata"]["name"]: d["metadata"].get("managedFields") or []
                    for d in loader.get("/apis/apps/v1/namespaces/shop/deployments").json()["items"]}
    for d in real_sandbox.apps.list_namespaced_deployment("shop").items:
        managers = [(m.manager, m.operation) for m in d.metadata.managed_fields or []]
        assert managers == [(m["manager"], m["operation"]) for m in emulated[d.metadata.name]], d.metadata.name


def test_the_statefulset_controller_names_its_revision_as_the_copy_does(real_sandbox: RealSandbox) -> None:
    env = [{"name": "DSN", "value": "postgres://a<b>&c@db/x"}]  # Go's encoder escapes <, > and &
    body = {"metadata": {"name": "ledger", "labels": {"app": "ledger"}},
            "spec": {"serviceName": "ledger", "replicas": 1, "selector": {"matchLabels": {"app": "ledger"}},
                     "template": {"metadata": {"labels": {"app": "ledger"}, "annotations": {"team": "payments"}},
                                  "spec": {"containers": [{"name": "ledger", "image": "shop/ledger:2.0", "env": env,
                                                           "ports": [{"containerPort": 5432}]}]}}}}
    made = real_sandbox.apps.create_namespaced_stateful_set("payments", body)
    try:
        as_served = real_sandbox.apps.api_client.sanitize_for_serialization(
            real_sandbox.apps.read_namespaced_stateful_set("ledger", "payments"))
        expected = revision_name(as_served)
        revisions = wait_for(lambda: real_sandbox.apps.list_namespaced_controller_revision(
            "payments", label_selector="app=ledger").items, SETTLE, "the controller's ControllerRevision")
        assert [r.metadata.name for r in revisions] == [expected]
        pod = wait_for(lambda: next(iter(real_sandbox.core.list_namespaced_pod(
            "payments", label_selector="app=ledger").items), None), SETTLE, "the StatefulSet's pod")
        assert pod.metadata.labels["controller-revision-hash"] == expected
    finally:
        real_sandbox.apps.delete_namespaced_stateful_set(made.metadata.name, "payments")
