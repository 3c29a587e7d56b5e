"""The Kubernetes read tools on every common kind, through the door, against the emulator holding
tests/sandbox/data/every-kind.yaml: one of each kind, failing in the ways real clusters fail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.doors import make_door
from tools.base import Status, ToolResult


@pytest.fixture
def kdoor(every_kind_door_settings: Settings) -> Door:
    return make_door(every_kind_door_settings)


def run(door: Door, caller: Caller, tool: str, **args: Any) -> ToolResult:
    r = door.run(tool, args, caller)
    assert r.status in (Status.success, Status.no_data), r.error
    return r


def describe(door: Door, caller: Caller, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    return run(door, caller, "k8s_describe", kind=kind, name=name,
               **({"namespace": namespace} if namespace else {})).data


@pytest.mark.parametrize(("kind", "namespace", "expected"), [
    ("Pod", "shop", {"debug-shell", "web-5d8f7c9b4-abcde", "web-5d8f7c9b4-fghij"}),
    ("Deployment", "data", {"trainer"}), ("StatefulSet", "data", {"postgres"}),
    ("DaemonSet", "monitoring", {"node-exporter"}), ("Job", "batch", {"db-migrate", "nightly-report-29557560"}),
    ("CronJob", "batch", {"nightly-report"}), ("Node", None, {"node-a", "node-b", "gpu-a"}),
    ("Service", "shop", {"web"}), ("Endpoints", "shop", {"web"}),
    ("PersistentVolumeClaim", "data", {"data-postgres-0"}), ("StorageClass", None, {"standard"}),
    ("NetworkPolicy", "shop", {"deny-egress"}), ("ConfigMap", "shop", {"web-config"}),
    ("Secret", "batch", {"db-credentials"}), ("HorizontalPodAutoscaler", "shop", {"web"}),
    ("Namespace", None, {"shop", "batch", "data", "monitoring"}),
])
def test_every_kind_lists_and_describes(kdoor: Door, oncall: Caller, kind: str, namespace: str | None,
                                        expected: set[str]) -> None:
    listed = run(kdoor, oncall, "k8s_list", kind=kind, **({"namespace": namespace} if namespace else {}))
    rows = listed.data["pods" if kind == "Pod" else "items"]
    assert {r["name"] for r in rows} == expected
    for name in expected:
        d = describe(kdoor, oncall, kind, name, namespace)
        assert (d["kind"], d["name"]) == (kind, name)


def test_the_failed_job_says_why_and_its_pod_logs_name_the_database(kdoor: Door, oncall: Caller) -> None:
    job = describe(kdoor, oncall, "Job", "db-migrate", "batch")
    assert job["status"] == "Failed (BackoffLimitExceeded)" and (job["failed"], job["backoff_limit"]) == (3, 2)
    assert job["events"][0]["reason"] == "BackoffLimitExceeded"
    pod = job["pods"][0]["name"]
    logs = run(kdoor, oncall, "k8s_pod_logs", namespace="batch", pod=pod)
    assert logs.data["lines"] == ["ERROR All host(s) tried for db query failed (tried: prod-db:3333)"]
    described = describe(kdoor, oncall, "Pod", pod, "batch")
    assert described["controlled_by"] == ["Job/db-migrate"]
    assert described["containers"][0]["command"] == ["/bin/migrate", "--target", "latest"]
    (ref,) = described["config_refs"]
    assert ref == {"kind": "Secret", "name": "db-credentials", "used_by": "env DB_PASSWORD", "exists": True,
                   "key": "password", "key_exists": True}
    secret = describe(kdoor, oncall, "Secret", "db-credentials", "batch")
    assert secret["keys"] == ["password", "username"]
    assert "hunter2" not in json.dumps([described, secret]), "a Secret's value never leaves the tools"


def test_the_cronjob_chain_and_its_job(kdoor: Door, oncall: Caller) -> None:
    cron = describe(kdoor, oncall, "CronJob", "nightly-report", "batch")
    assert cron["schedule"] == "0 2 * * *" and cron["last_schedule"] == "2026-03-14T02:00:00Z"
    assert [j["name"] for j in cron["jobs"]] == ["nightly-report-29557560"]
    (pod,) = run(kdoor, oncall, "k8s_list", namespace="batch", deployment="nightly-report-29557560").data["pods"]
    chain = describe(kdoor, oncall, "Pod", pod["name"], "batch")["controlled_by"]
    assert chain == ["Job/nightly-report-29557560", "CronJob/nightly-report"]


def test_a_gpu_pod_that_cannot_schedule_shows_the_schedulers_words_and_its_gpu_limit(
    kdoor: Door, oncall: Caller
) -> None:
    (row,) = run(kdoor, oncall, "k8s_list", namespace="data", deployment="trainer").data["pods"]
    assert row["status"] == "Pending" and row["node"] is None
    pod = describe(kdoor, oncall, "Pod", row["name"], "data")
    assert pod["containers"][0]["limits"] == {"nvidia.com/gpu": "2"}
    scheduled = next(c for c in pod["conditions"] if c["type"] == "PodScheduled")
    assert "3 Insufficient nvidia.com/gpu" in scheduled["message"]
    assert pod["events"][0]["reason"] == "FailedScheduling"
    assert pod["controlled_by"][-1] == "Deployment/trainer"
    gpu = describe(kdoor, oncall, "Node", "gpu-a")
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert gpu["allocatable"]["nvidia.com/gpu"] == "1" and gpu["requests"]["nvidia.com/gpu"]["requested"] == "0"


def test_a_node_under_pressure_and_its_pod_count(kdoor: Door, oncall: Caller) -> None:
    node = describe(kdoor, oncall, "Node", "node-b")
    assert node["pressure"] == ["MemoryPressure"] and node["pods"]["max"] == 4
    assert node["pods"]["running"] == len(node["pods_on_node"])
    assert [e["reason"] for e in node["events"]] == ["EvictionThresholdMet"]
    rows = {r["name"]: r for r in run(kdoor, oncall, "k8s_list", kind="Node").data["items"]}
    assert rows["node-b"]["healthy"] is False and rows["gpu-a"]["taints"] == ["nvidia.com/gpu=present:NoSchedule"]
    unhealthy = run(kdoor, oncall, "k8s_list", kind="Node", only_unhealthy=True).data["items"]
    assert [r["name"] for r in unhealthy] == ["node-b"]


def test_a_claim_whose_class_does_not_exist(kdoor: Door, oncall: Caller) -> None:
    claim = describe(kdoor, oncall, "PersistentVolumeClaim", "data-postgres-0", "data")
    assert claim["status"] == "Pending" and claim["storage_class"] == {"name": "fast-ssd", "exists": False}
    assert claim["used_by"] == ["postgres-0"]
    assert claim["events"][0]["message"] == 'storageclass.storage.k8s.io "fast-ssd" not found'
    sts = describe(kdoor, oncall, "StatefulSet", "postgres", "data")
    assert [p["name"] for p in sts["pods"]] == ["postgres-0"] and sts["replicas"]["desired"] == 3
    bound = describe(kdoor, oncall, "PersistentVolumeClaim", "reports", "batch")
    assert bound["status"] == "Bound" and bound["volume"]["status"] == "Bound"
    assert bound["storage_class"]["provisioner"] == "pd.csi.storage.gke.io"


def test_a_service_whose_pods_are_not_ready_and_the_policy_that_cuts_egress(kdoor: Door, oncall: Caller) -> None:
    svc = describe(kdoor, oncall, "Service", "web", "shop")
    assert svc["endpoints"]["ready"] == [] and len(svc["endpoints"]["not_ready"]) == 2
    policy = describe(kdoor, oncall, "NetworkPolicy", "deny-egress", "shop")
    assert policy["verdict"] == "denies all egress from the selected pods, DNS (port 53) included"
    assert policy["selected_pods"] == ["web-5d8f7c9b4-abcde", "web-5d8f7c9b4-fghij"]
    pod = describe(kdoor, oncall, "Pod", "web-5d8f7c9b4-abcde", "shop")
    assert pod["services"] == ["web"] and pod["network_policies"] == [{"name": "deny-egress",
                                                                       "policy_types": ["Egress"]}]
    assert pod["config_refs"] == [{"kind": "ConfigMap", "name": "web-config", "used_by": "volume config",
                                   "exists": True}]
    sidecar = pod["containers"][1]
    assert (sidecar["name"], sidecar["state"]["reason"], sidecar["restarts"]) == ("log-shipper", "CrashLoopBackOff", 7)
    logs = run(kdoor, oncall, "k8s_pod_logs", namespace="shop", pod="web-5d8f7c9b4-abcde", container="log-shipper",
               previous=True)
    assert logs.data["lines"] == ["ERROR [output:es] host es.logging:9200 unreachable"]
    hpa = describe(kdoor, oncall, "HorizontalPodAutoscaler", "web", "shop")
    assert hpa["metrics"] == ["cpu Utilization 70%"] and hpa["conditions"][0]["reason"] == "TooManyReplicas"


def test_an_init_container_failure_reads_like_kubectl(kdoor: Door, oncall: Caller) -> None:
    (row,) = run(kdoor, oncall, "k8s_list", namespace="shop", selector="tier in (tools)").data["pods"]
    assert (row["name"], row["status"]) == ("debug-shell", "Init:CrashLoopBackOff")
    assert row["last_termination"]["container"] == "wait-for-db"
    logs = run(kdoor, oncall, "k8s_pod_logs", namespace="shop", pod="debug-shell", container="wait-for-db",
               previous=True)
    assert logs.data["lines"] == ["sh: nc: not found"]
    pod = describe(kdoor, oncall, "Pod", "debug-shell", "shop")
    assert pod["init_containers"][0]["last_state"]["exit_code"] == 127


def test_events_of_exactly_one_object(kdoor: Door, oncall: Caller) -> None:
    one = run(kdoor, oncall, "k8s_events", namespace="shop", object_name="web-5d8f7c9b4-abcde", kind="Pod")
    assert [e["reason"] for e in one.data["events"]] == ["Unhealthy"]
    other = run(kdoor, oncall, "k8s_events", namespace="shop", object_name="web-5d8f7c9b4-fghij", kind="Pod")
    assert other.status == Status.no_data and "about Pod 'web-5d8f7c9b4-fghij'" in other.notice
    bad = kdoor.run("k8s_events", {"namespace": "shop", "object_name": "x", "kind": "Widget"}, oncall)
    assert bad.status == Status.error and "kind 'Widget' is not one of" in bad.error


def test_wrong_names_and_scopes_are_refused_with_what_exists(kdoor: Door, oncall: Caller) -> None:
    r = kdoor.run("k8s_describe", {"kind": "Job", "name": "db-migrat", "namespace": "batch"}, oncall)
    assert r.status == Status.error
    assert r.error == "Job 'db-migrat' not found in namespace 'batch'; Jobs there: db-migrate, nightly-report-29557560"
    r = kdoor.run("k8s_describe", {"kind": "Service", "name": "web"}, oncall)
    assert r.status == Status.error and "Service is namespaced: give namespace" in r.error
    r = kdoor.run("k8s_list", {"kind": "Node", "selector": "pool notin (gpu)"}, oncall)
    assert {x["name"] for x in r.data["items"]} == {"node-a", "node-b"}
