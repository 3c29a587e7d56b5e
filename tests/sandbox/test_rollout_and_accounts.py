"""Scenarios that grow the format: a deployment caught mid-rollout (pods of the old and the new revision side by
side, as the controller leaves them within maxSurge/maxUnavailable), and ServiceAccounts with their
workload-identity annotations and imagePullSecrets, read back through opsbot's own tools; an HPA that cannot
compute replicas is not listed as healthy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox import k8s, procs, scenario
from tests.support.doors import make_door


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    state, port = tmp_path_factory.mktemp("rollout-accounts"), procs.free_port()
    k8s.start(state, port)
    yield state, port
    procs.stop(k8s.NAME, state)


def _door(cluster: tuple[Path, int], settings: Settings, name: str) -> Door:
    state, port = cluster
    k8s.load(state, port, scenario.load(name), time.time())
    return make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})}))


def test_a_deployment_mid_rollout_keeps_its_old_pods_serving_beside_the_new_failing_one(
        cluster: tuple[Path, int], settings: Settings, oncall: Caller) -> None:
    """4 replicas, maxSurge 0, maxUnavailable 1: one old pod goes, one new pod comes and never gets ready."""
    door = _door(cluster, settings, "stalled-rollout-two-revisions")
    d = door.run("k8s_describe", {"kind": "Deployment", "namespace": "billing", "name": "invoice-service"}, oncall).data
    pods = {r["revision"]: r["pods"] for r in d["revisions"]}
    assert pods == {1: 3, 2: 1}
    assert (d["replicas"]["ready"], d["replicas"]["updated"]) == (3, 1)
    assert "ProgressDeadlineExceeded" in d["rollout"]
    listed = door.run("k8s_list", {"namespace": "billing", "deployment": "invoice-service"}, oncall).data["pods"]
    assert sorted(p["healthy"] for p in listed) == [False, True, True, True]


def test_serviceaccounts_show_their_identity_and_pull_secrets_and_pods_name_theirs(
        cluster: tuple[Path, int], settings: Settings, oncall: Caller) -> None:
    door = _door(cluster, settings, "serviceaccount-missing-role-annotation")
    bare = door.run("k8s_describe", {"kind": "ServiceAccount", "namespace": "media", "name": "upload-api"}, oncall)
    assert bare.data["workload_identity"] is None and "eks.amazonaws.com/role-arn" in bare.data["no_workload_identity"]
    role = door.run("k8s_describe", {"kind": "ServiceAccount", "namespace": "media", "name": "thumbnailer"}, oncall)
    assert role.data["workload_identity"] == {
        "eks.amazonaws.com/role-arn": "AWS IAM role (IRSA): arn:aws:iam::481516234200:role/media-thumbnailer"}
    rows = door.run("k8s_list", {"kind": "ServiceAccount", "namespace": "media"}, oncall).data["items"]
    assert {r["name"] for r in rows} == {"default", "thumbnailer", "upload-api"}, "every namespace has default"
    pod = door.run("k8s_list", {"namespace": "media", "deployment": "upload-api"}, oncall).data["pods"][0]["name"]
    described = door.run("k8s_describe", {"kind": "Pod", "namespace": "media", "name": pod}, oncall).data
    assert described["service_account"] == "upload-api"
    door = _door(cluster, settings, "imagepull-secret-missing-serviceaccount")
    rows = door.run("k8s_list", {"kind": "ServiceAccount"}, oncall).data["items"]
    pulls = {(r["namespace"], r["name"]): r.get("image_pull_secrets") for r in rows}
    assert pulls[("shop", "default")] == ["regcred"] and pulls[("shop-staging", "default")] is None
    # a real cluster's kube-system alone has dozens of accounts: the one holding a pull secret lists first, so a
    # list cut at its row limit still shows it
    assert (rows[0]["namespace"], rows[0]["name"]) == ("shop", "default")


def test_an_hpa_that_cannot_compute_replicas_is_listed_unhealthy_with_its_reason(
        cluster: tuple[Path, int], settings: Settings, oncall: Caller) -> None:
    door = _door(cluster, settings, "hpa-missing-cpu-request-sidecar")
    rows = {r["name"]: r for r in door.run("k8s_list", {"kind": "HorizontalPodAutoscaler", "namespace": "web"},
                                           oncall).data["items"]}
    assert rows["checkout-web"]["healthy"] and "not_scaling" not in rows["checkout-web"]
    assert not rows["storefront"]["healthy"]
    assert rows["storefront"]["not_scaling"].startswith("FailedGetResourceMetric: the HPA was unable to compute")
    hpa = door.run("k8s_describe", {"kind": "HorizontalPodAutoscaler", "namespace": "web", "name": "storefront"},
                   oncall).data
    assert {e["reason"] for e in hpa["events"]} == {"FailedGetResourceMetric", "FailedComputeMetricsReplicas"}
