"""The sandbox on the real control plane, crashloop-missing-env loaded: the scenario's pods keep the status it
gave them, kube-controller-manager and kube-scheduler make and place new pods and kwok runs them, kwok serves the
scenario's logs, and the sandbox's Prometheus has kube-state-metrics' series from the real one; opsbot's tools,
as deploy/'s ServiceAccount, see all of it."""

from __future__ import annotations

import httpx
from kubernetes.client.exceptions import ApiException

from bot.guard.door import Caller
from sandbox.controlplane_cluster import SCENARIO_STATUS
from tests.controlplane.conftest import RealSandbox
from tests.support.alerting import wait_for
from tests.support.doors import OPERATOR, make_door
from tools.base import Status

WHO = Caller(identity="cli:controlplane-test")
SETTLE = 60  # seconds: the controllers, the scheduler, kwok and a scrape each act within a few


def _running(rs: RealSandbox, ns: str, app: str) -> list[str]:
    pods = rs.core.list_namespaced_pod(ns, label_selector=f"app={app}").items
    return sorted(p.metadata.name for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp
                  is None and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []))


def test_opsbot_reads_the_scenarios_crash_loop_and_its_logs_from_the_real_api_server(real_sandbox: RealSandbox) -> None:
    door = make_door(real_sandbox.settings)
    assert str(real_sandbox.settings.kubernetes.kubeconfig).endswith("kubeconfig.yaml")
    pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, WHO)
    assert pods.status == Status.success, pods.error
    assert [(p["status"], p["restarts"]) for p in pods.data["pods"]] == [("CrashLoopBackOff", 9)] * 3
    logs = door.run("k8s_pod_logs", {"namespace": "shop", "pod": "checkout", "previous": True}, WHO)
    assert logs.status == Status.success, logs.error
    assert logs.data["lines"][-1] == "FATAL config error: required environment variable DATABASE_URL is not set"


def test_an_approved_scale_makes_pods_that_kwok_runs(real_sandbox: RealSandbox) -> None:
    assert len(_running(real_sandbox, "shop", "cart")) == 2
    door = make_door(real_sandbox.settings)
    asked = door.run("k8s_scale", {"namespace": "shop", "deployment": "cart", "replicas": 3}, OPERATOR)
    assert asked.status == Status.approval_required, asked.error
    assert door.gate.decide(asked.data["action_id"], "slack:U0LEAD", approve=True).ok
    wait_for(lambda: len(_running(real_sandbox, "shop", "cart")) == 3, SETTLE, "the scaled Deployment's pods to run")
    listed = door.run("k8s_list", {"namespace": "shop", "deployment": "cart"}, WHO)
    assert listed.status == Status.success, listed.error
    assert [p["status"] for p in listed.data["pods"]] == ["Running"] * 3


def test_prometheus_has_the_real_kube_state_metrics_series(real_sandbox: RealSandbox) -> None:
    query = 'kube_deployment_spec_replicas{job="kube-state-metrics",namespace="shop",deployment="checkout"}'

    def answered() -> list | None:
        r = httpx.get(f"{real_sandbox.settings.prometheus.url}/api/v1/query", params={"query": query}, timeout=5)
        return r.json()["data"]["result"] or None

    result = wait_for(answered, SETTLE, "Prometheus to scrape kube-state-metrics")
    assert [s["value"][1] for s in result] == ["3"]
    assert result[0]["metric"]["service"] == "kube-state-metrics" and "instance" not in result[0]["metric"]

    # every pod series is the real cluster's (its uids), none the emulator's that loaded the scenario
    def uids() -> set[str]:
        r = httpx.get(f"{real_sandbox.settings.prometheus.url}/api/v1/query", timeout=5,
                      params={"query": 'kube_pod_status_phase{namespace="shop",phase="Running"} == 1'})
        return {s["metric"]["uid"] for s in r.json()["data"]["result"]}

    real = {p.metadata.uid for p in real_sandbox.core.list_namespaced_pod("shop").items if p.status.phase == "Running"}
    wait_for(lambda: uids() >= real, SETTLE, "a scrape to see every running pod")  # a pod just scaled up, too
    assert uids() == real


def test_a_pod_whose_status_a_scenario_set_keeps_it(real_sandbox: RealSandbox) -> None:
    core = real_sandbox.core
    pod = {"metadata": {"name": "unpulled", "annotations": {SCENARIO_STATUS: "true"}},
           "spec": {"nodeName": "sandbox-node-1", "containers": [{"name": "app", "image": "shop/missing:9.9"}]}}
    try:
        core.create_namespaced_pod("payments", pod)
    except ApiException as e:
        assert e.status == 409, e
    status = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
              "containerStatuses": [{"name": "app", "image": "shop/missing:9.9", "imageID": "", "ready": False,
                                     "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
    core.patch_namespaced_pod_status("unpulled", "payments", {"status": status})
    # kwok acts on pods in turn: once a later, unowned pod runs, kwok has seen this one (Pending, not Ready: what
    # kwok starts) and left it be
    core.create_namespaced_pod("payments", {"metadata": {"name": "beside", "labels": {"app": "beside"}}, "spec": {
        "nodeName": "sandbox-node-1", "containers": [{"name": "app", "image": "shop/beside:1.0"}]}})
    wait_for(lambda: _running(real_sandbox, "payments", "beside"), SETTLE, "kwok to run the unowned pod beside it")
    got = make_door(real_sandbox.settings).run("k8s_list", {"namespace": "payments"}, WHO)
    assert got.status == Status.success, got.error
    assert next(p for p in got.data["pods"] if p["name"] == "unpulled")["status"] == "ImagePullBackOff"
