"""The real cluster: kube-scheduler places pods on kwok's nodes, kube-controller-manager's controllers make and
remove them, kwok runs them and serves their logs, kube-state-metrics exports their state; opsbot's tools, as its
ServiceAccount, see all of it. A pod whose status a scenario set keeps it."""

from __future__ import annotations

import httpx
from kubernetes.client.exceptions import ApiException

from bot.guard.door import Caller
from sandbox.controlplane_cluster import SCENARIO_STATUS
from tests.controlplane.conftest import LOGGED_LINES, LOGGED_POD, RealCluster
from tests.support.alerting import wait_for
from tests.support.doors import OPERATOR, make_door
from tools.base import Status

WHO = Caller(identity="cli:controlplane-test")
NODE = {"metadata": {"name": "worker-1"}}
SETTLE = 60  # seconds: the controllers, the scheduler and kwok each act within a few


def _ensure(create, *args) -> None:
    try:
        create(*args)
    except ApiException as e:
        if e.status != 409:
            raise


def _setup(rc: RealCluster) -> None:
    _ensure(rc.core.create_namespace, {"metadata": {"name": "shop"}})
    _ensure(rc.core.create_node, NODE)
    wait_for(lambda: any(c.type == "Ready" and c.status == "True"
                         for c in rc.core.read_node("worker-1").status.conditions or []), SETTLE,
             "kwok to make the node Ready")


def _deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": f"shop/{name}:1.0"}]}}}}


def _running(rc: RealCluster, app: str) -> list[str]:
    pods = rc.core.list_namespaced_pod("shop", label_selector=f"app={app}").items
    return sorted(p.metadata.name for p in pods if p.status.phase == "Running" and p.spec.node_name == "worker-1"
                  and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []))


def test_an_approved_scale_runs_new_pods_that_opsbot_then_lists(real_cluster: RealCluster) -> None:
    _setup(real_cluster)
    real_cluster.apps.create_namespaced_deployment("shop", _deployment("web", 1))
    wait_for(lambda: len(_running(real_cluster, "web")) == 1, SETTLE, "the Deployment's pod to run")
    door = make_door(real_cluster.settings)
    asked = door.run("k8s_scale", {"namespace": "shop", "deployment": "web", "replicas": 3}, OPERATOR)
    assert asked.status == Status.approval_required, asked.error
    assert door.gate.decide(asked.data["action_id"], "slack:U0LEAD", approve=True).ok
    wait_for(lambda: len(_running(real_cluster, "web")) == 3, SETTLE, "the scaled Deployment's pods to run")
    listed = door.run("k8s_list", {"namespace": "shop", "deployment": "web"}, WHO)
    assert listed.status == Status.success, listed.error
    assert [p["status"] for p in listed.data["pods"]] == ["Running"] * 3


def test_kube_state_metrics_exports_the_deployment_and_its_pods(real_cluster: RealCluster) -> None:
    _setup(real_cluster)
    _ensure(real_cluster.apps.create_namespaced_deployment, "shop", _deployment("api", 2))

    def exported() -> str | None:
        text = httpx.get(real_cluster.cluster.metrics_url, timeout=5).text
        return text if 'kube_deployment_status_replicas_available{namespace="shop",deployment="api"} 2' in text \
            else None

    text = wait_for(exported, SETTLE, "kube-state-metrics to count the Deployment's two available pods")
    running = [line for line in text.splitlines() if line.startswith("kube_pod_status_phase{namespace=\"shop\"")
               and 'phase="Running"' in line and line.endswith(" 1") and "pod=\"api-" in line]
    assert len(running) == 2, running


def test_opsbot_reads_a_pods_logs_that_kwok_serves(real_cluster: RealCluster) -> None:
    _setup(real_cluster)
    _ensure(real_cluster.core.create_namespaced_pod, "shop", {
        "metadata": {"name": LOGGED_POD},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "shop/logger:1.0"}]}})
    wait_for(lambda: real_cluster.core.read_namespaced_pod(LOGGED_POD, "shop").status.phase == "Running", SETTLE,
             "kwok to run the pod")
    got = make_door(real_cluster.settings).run("k8s_pod_logs", {"namespace": "shop", "pod": LOGGED_POD}, WHO)
    assert got.status == Status.success, got.error
    assert got.data["lines"] == [line.split(" ", 3)[3] for line in LOGGED_LINES]


def test_a_pod_whose_status_the_scenario_owns_keeps_it(real_cluster: RealCluster) -> None:
    _setup(real_cluster)
    pod = {"metadata": {"name": "unpulled", "annotations": {SCENARIO_STATUS: "true"}},
           "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "shop/missing:9.9"}]}}
    _ensure(real_cluster.core.create_namespaced_pod, "shop", pod)
    status = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
              "containerStatuses": [{"name": "app", "image": "shop/missing:9.9", "imageID": "", "ready": False,
                                     "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
    real_cluster.core.patch_namespaced_pod_status("unpulled", "shop", {"status": status})
    # kwok acts on pods in turn: once a later, unowned pod runs, kwok has seen this one (Pending, not Ready: what
    # kwok starts) and left it be
    _ensure(real_cluster.apps.create_namespaced_deployment, "shop", _deployment("beside", 1))
    wait_for(lambda: len(_running(real_cluster, "beside")) == 1, SETTLE, "kwok to run the unowned pod beside it")
    got = make_door(real_cluster.settings).run("k8s_list", {"namespace": "shop"}, WHO)
    assert got.status == Status.success, got.error
    unpulled = next(p for p in got.data["pods"] if p["name"] == "unpulled")
    assert unpulled["status"] == "ImagePullBackOff"
