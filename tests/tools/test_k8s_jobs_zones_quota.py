"""The facts the read tools show about CronJobs, Jobs, zonal volumes, quotas and limit ranges, through the door,
against the emulator holding tests/sandbox/data/jobs-zones-quota.yaml: a suspended CronJob is not healthy and
says since when, a CronJob whose due run failed says since when it has not succeeded, a Job's pod counts read
as kubectl's, a volume's zone, a quota's used against hard, and the API server's words for refused pods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.doors import make_door
from tests.support.every_kind import every_kind_cluster
from tools.base import Status

DATA = Path(__file__).parent.parent / "sandbox" / "data" / "jobs-zones-quota.yaml"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture(scope="module")
def jdoor(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    with every_kind_cluster(tmp_path_factory.mktemp("jobs-zones-quota"), DATA) as kubeconfig:
        yield make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
            update={"kubeconfig": kubeconfig})}))


def run(door: Door, caller: Caller, tool: str, **args: Any) -> dict[str, Any]:
    r = door.run(tool, args, caller)
    assert r.status == Status.success, r.error or r.notice
    return r.data


def test_a_suspended_cronjob_is_not_healthy_and_says_since_when(jdoor: Door, oncall: Caller) -> None:
    rows = {r["name"]: r for r in run(jdoor, oncall, "k8s_list", kind="CronJob", namespace="ops")["items"]}
    assert rows["db-backup"]["healthy"] is False and rows["db-backup"]["problem"] == "suspended"
    assert rows["rotate"]["healthy"] is True and "problem" not in rows["rotate"]
    cron = run(jdoor, oncall, "k8s_describe", kind="CronJob", name="db-backup", namespace="ops")
    assert cron["suspend"] is True and cron["status"] == "suspended"
    assert re.fullmatch(ISO, cron["suspended_since"]) and cron["suspended_by"] == "kubectl-patch"
    assert cron["last_successful"] and [j["status"] for j in cron["jobs"]] == ["Complete"]


def test_a_cronjob_whose_due_run_failed_says_since_when_it_has_not_succeeded(jdoor: Door, oncall: Caller) -> None:
    row = next(r for r in run(jdoor, oncall, "k8s_list", kind="CronJob", namespace="ops", only_unhealthy=True)["items"]
               if r["name"] == "export")
    assert re.fullmatch(rf"no success since {ISO}; it was due at {ISO}", row["problem"])
    cron = run(jdoor, oncall, "k8s_describe", kind="CronJob", name="export", namespace="ops")
    assert cron["status"] == row["problem"]
    failed = [j for j in cron["jobs"] if j["status"].startswith("Failed")]
    assert len(failed) == 2, "failedJobsHistoryLimit 2 keeps the newest two failed Jobs"
    job = run(jdoor, oncall, "k8s_describe", kind="Job", name=failed[0]["name"], namespace="ops")
    assert job["pods_statuses"] == "0 Active (0 Ready) / 0 Succeeded / 3 Failed" and job["backoff_limit"] == 2
    assert job["status"] == "Failed (BackoffLimitExceeded)"


def test_a_volume_shows_its_zone_and_the_pod_the_scheduler_cannot_place_with_it(jdoor: Door, oncall: Caller) -> None:
    pv = run(jdoor, oncall, "k8s_describe", kind="PersistentVolume", name="pv-in-b")
    assert pv["node_affinity"] == ["topology.kubernetes.io/zone in [europe-west1-b]"]
    claim = run(jdoor, oncall, "k8s_describe", kind="PersistentVolumeClaim", name="data-db", namespace="data")
    assert claim["status"] == "Bound"
    assert claim["volume"]["node_affinity"] == ["topology.kubernetes.io/zone in [europe-west1-b]"]
    nodes = run(jdoor, oncall, "k8s_list", kind="Node")["items"]
    assert sorted(n["zone"] for n in nodes) == ["europe-west1-c", "europe-west1-d"]
    assert nodes[0]["allocatable"] == {"cpu": "8", "memory": "32Gi"}, "a node's size beside its zone"
    pod = run(jdoor, oncall, "k8s_describe", kind="Pod", name="db", namespace="data")
    scheduled = next(c for c in pod["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["message"].startswith("0/2 nodes are available: 2 node(s) had volume node affinity conflict.")


def test_a_quota_shows_used_against_hard_and_the_replica_set_why_it_has_no_fourth_pod(
    jdoor: Door, oncall: Caller
) -> None:
    quota = run(jdoor, oncall, "k8s_describe", kind="ResourceQuota", name="compute", namespace="shop")
    assert {u["resource"]: (u["used"], u["hard"]) for u in quota["resources"]} == {
        "limits.memory": ("4Gi", "4Gi"), "pods": ("2", "10")}
    assert quota["spent"] == ["limits.memory"]
    (row,) = run(jdoor, oncall, "k8s_list", kind="ResourceQuota", namespace="shop")["items"]
    assert row["healthy"] is False and row["used"] == "limits.memory: 4Gi/4Gi, pods: 2/10"
    deploy = run(jdoor, oncall, "k8s_describe", kind="Deployment", name="web", namespace="shop")
    assert (deploy["replicas"]["current"], deploy["replicas"]["desired"]) == (2, 3)
    failure = next(c for c in deploy["conditions"] if c["type"] == "ReplicaFailure")
    assert re.fullmatch(r'pods "web-\w+-" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, '
                        r"used: limits.memory=4Gi, limited: limits.memory=4Gi", failure["message"])
    events = run(jdoor, oncall, "k8s_events", namespace="shop", object_name="web")["events"]
    assert events[0]["reason"] == "FailedCreate" and events[0]["message"] == f"Error creating: {failure['message']}"


def test_a_limit_range_and_the_pods_it_refuses(jdoor: Door, oncall: Caller) -> None:
    lr = run(jdoor, oncall, "k8s_describe", kind="LimitRange", name="container-limits", namespace="ml")
    assert lr["limits"] == [{"type": "Container", "resource": "memory", "min": "64Mi", "max": "1Gi",
                             "default_request": None, "default_limit": None}]
    events = run(jdoor, oncall, "k8s_events", namespace="ml", object_name="api")["events"]
    assert events[0]["reason"] == "FailedCreate"
    assert re.fullmatch(r'Error creating: pods "api-\w+-" is forbidden: maximum memory usage per Container is '
                        r"1Gi, but limit is 2Gi", events[0]["message"])
    assert run(jdoor, oncall, "k8s_describe", kind="Deployment", name="api", namespace="ml")["replicas"]["current"] == 0


def test_a_pending_pod_shows_the_extended_resources_it_asks_for(jdoor: Door, oncall: Caller) -> None:
    pod = run(jdoor, oncall, "k8s_describe", kind="Pod", name="trainer", namespace="data")
    (c,) = pod["containers"]
    assert c["requests"] == {"memory": "100Mi", "nvidia.com/gpu": "5"} and c["limits"]["nvidia.com/gpu"] == "5"
