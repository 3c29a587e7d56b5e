"""Triage follows jobs, storage and admission to the object that holds the cause: the CronJob an alert's query
names, a suspended or stale CronJob, the volume pinned to a zone without nodes, the ResourceQuota or
LimitRange that refuses pods; the diagnosis names that object and its mechanism, and says nothing when what
was read does not show why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.reads import follow_ups
from tools.base import Status, ToolResult

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
QUOTA_MESSAGE = ('pods "web-7d4b9c8f6-x2x9q" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, '
                 "used: limits.memory=7Gi, limited: limits.memory=8Gi")
LIMIT_MESSAGE = 'pods "api-5c9d8-k2j4x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'
CONFLICT = ("0/3 nodes are available: 3 node(s) had volume node affinity conflict. preemption: 0/3 nodes are "
            "available: 3 Preemption is not helpful for scheduling.")
# the same, as kube-scheduler v1.34 says it (seen on the real control plane)
CONFLICT_V134 = ("0/3 nodes are available: 3 node(s) didn't match PersistentVolume's node affinity. no new claims to "
                 "deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


def _alert(**labels: str) -> Alert:
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _result(tool: str, **data: Any) -> ToolResult:
    return ToolResult(tool=tool, status=Status.success, invocation=tool, data=data)


def _cron(**fields: Any) -> ToolResult:
    return _result("k8s_describe", kind="CronJob", namespace="ops", name="db-backup", schedule="0 2 * * *",
                   last_schedule="2026-12-03T02:00:00Z", last_successful="2026-12-03T02:04:10Z", events=[],
                   **fields)


def _failed_job(name: str) -> ToolResult:
    return _result("k8s_describe", kind="Job", namespace="ops", name=name, status="Failed (BackoffLimitExceeded)",
                   pods_statuses="0 Active (0 Ready) / 0 Succeeded / 3 Failed", backoff_limit=2, events=[],
                   conditions=[{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                "message": "Job has reached the specified backoff limit"}],
                   pods=[{"name": f"{name}-abcde", "status": "Error"}])


def _job_pod(job: str) -> list[ToolResult]:
    pod = f"{job}-abcde"
    container = {"name": "dump", "ready": False, "restarts": 0, "state": {"state": "terminated", "reason": "Error",
                                                                           "exit_code": 1}}
    return [_result("k8s_describe", kind="Pod", namespace="ops", name=pod, containers=[container], events=[],
                    init_containers=[], conditions=[], controlled_by=[f"Job/{job}", "CronJob/db-backup"]),
            _result("k8s_pod_logs", pod=pod, container="dump",
                    lines=["ERROR upload failed: An error occurred (AccessDenied) when calling the PutObject "
                           "operation: Access Denied"])]


def test_a_suspended_cronjob_is_the_cause_and_the_advice_unsuspends_it() -> None:
    alert = _alert(alertname="BackupTooOld", namespace="ops", cronjob="db-backup")
    d = diagnose(alert, [_cron(suspend=True, status="suspended", suspended_since="2026-12-04T09:12:00Z",
                               suspended_by="kubectl-patch", jobs=[])], NOW)
    assert d and d.mode == "cronjob-suspended" and d.about == "CronJob ops/db-backup"
    assert d.summary == "suspend: true since 2026-12-04T09:12:00Z (set by kubectl-patch): no Job is created"
    assert d.advice and "kubectl patch cronjob db-backup -n ops -p '{\"spec\":{\"suspend\":false}}'" in d.advice
    assert d.rollback is None


def test_a_stale_cronjob_is_diagnosed_by_its_failing_jobs_and_never_guessed_without_them() -> None:
    alert = _alert(alertname="BackupTooOld", namespace="ops", cronjob="db-backup")
    stale = _cron(suspend=False, status="no success since 2026-12-03T02:04:10Z; it was due at 2026-12-07T02:00:00Z",
                  jobs=[{"name": "db-backup-29944920", "status": "Failed (BackoffLimitExceeded)"}])
    unread = diagnose(alert, [stale], NOW)
    assert unread and unread.mode == "cause-not-found", "overdue, but nothing read says why: no guess"
    d = diagnose(alert, [stale, _failed_job("db-backup-29944920"), *_job_pod("db-backup-29944920")], NOW)
    assert d and d.mode == "cronjob-stale" and d.about == "CronJob ops/db-backup"
    assert d.summary.startswith("no success since 2026-12-03T02:04:10Z") and "BackoffLimitExceeded" in d.summary
    assert "Job db-backup-29944920: Pods Statuses: 0 Active (0 Ready) / 0 Succeeded / 3 Failed; backoffLimit 2" \
        in d.quotes
    assert any("AccessDenied" in q for q in d.quotes)


def test_the_cronjob_an_alert_query_names_is_read_and_its_failed_jobs_after_it() -> None:
    query = ('max by (namespace) (time() - kube_cronjob_status_last_successful_time{namespace="ops", '
             'cronjob="db-backup"}) > 90000')
    first = [_result("prom_query", query=query, series=[{"labels": {"namespace": "ops"}, "value": 340000}])]
    assert ("k8s_describe", {"kind": "CronJob", "namespace": "ops", "name": "db-backup"}) in follow_ups(first)
    stale = _cron(suspend=False, status="no success since …", jobs=[{"name": "db-backup-29944920"}])
    assert ("k8s_describe", {"kind": "Job", "namespace": "ops", "name": "db-backup-29944920"}) in \
        follow_ups([stale])
    suspended = _cron(suspend=True, status="suspended", jobs=[{"name": "db-backup-29939000"}])
    assert not [c for c in follow_ups([suspended]) if c[1].get("kind") == "Job"], "suspended: its Jobs are not why"


def _pending_pod(message: str = CONFLICT) -> ToolResult:
    return _result("k8s_describe", kind="Pod", namespace="data", name="postgres-0", status="Pending", events=[],
                   containers=[{"name": "postgres", "ready": False, "requests": {"cpu": "2", "memory": "8Gi"}}],
                   init_containers=[], controlled_by=["StatefulSet/postgres"],
                   claims=[{"claim": "data-postgres-0", "exists": True, "status": "Bound", "volume": "pv-b"}],
                   conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                "message": message}])


@pytest.mark.parametrize("message", [CONFLICT, CONFLICT_V134], ids=["older-wording", "v1.34-wording"])
def test_a_volume_in_a_zone_without_nodes_is_named_against_the_nodes_zones_and_no_node_is_labelled(
        message: str) -> None:
    alert = _alert(alertname="KubeStatefulSetReplicasMismatch", namespace="data", statefulset="postgres")
    reads = follow_ups([_pending_pod(message)])
    assert ("k8s_describe", {"kind": "PersistentVolumeClaim", "namespace": "data", "name": "data-postgres-0"}) in reads
    assert ("k8s_list", {"kind": "Node"}) in reads
    claim = _result("k8s_describe", kind="PersistentVolumeClaim", namespace="data", name="data-postgres-0",
                    status="Bound", events=[], volume={"name": "pv-b", "status": "Bound", "node_affinity": [
                        "topology.kubernetes.io/zone in [europe-west1-b]"]})
    nodes = _result("k8s_list", kind="Node", items=[{"name": "n1", "zone": "europe-west1-c"},
                                                    {"name": "n2", "zone": "europe-west1-d"}])
    d = diagnose(alert, [_pending_pod(message), claim, nodes], NOW)
    assert d and d.mode == "volume-node-affinity-conflict" and d.about == "PersistentVolume pv-b"
    assert d.summary == ("node affinity topology.kubernetes.io/zone in [europe-west1-b]; the nodes are in "
                         "europe-west1-c, europe-west1-d: volume node affinity conflict")
    assert d.advice and "label" not in d.advice and "WaitForFirstConsumer" in d.advice
    without_claim = diagnose(alert, [_pending_pod(message)], NOW)
    assert without_claim and "or label a node" not in (without_claim.advice or ""), "even unread: not 'label a node'"


def _stuck_web(message: str) -> list[ToolResult]:
    deploy = _result("k8s_describe", kind="Deployment", namespace="shop", name="web", events=[], revisions=[],
                     replicas={"desired": 4, "current": 3, "ready": 3}, rollback={},
                     conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                  "message": 'ReplicaSet "web-7d4b9c8f6" has timed out progressing.'},
                                 {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                  "message": message}])
    events = _result("k8s_events", namespace="shop", object_name="web", events=[
        {"type": "Warning", "reason": "FailedCreate", "object": "ReplicaSet/web-7d4b9c8f6",
         "message": f"Error creating: {message}"}])
    return [deploy, events]


def test_a_quota_that_refuses_pods_is_the_cause_not_the_rollout() -> None:
    alert = _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="web")
    assert ("k8s_describe", {"kind": "ResourceQuota", "namespace": "shop", "name": "compute"}) in \
        follow_ups(_stuck_web(QUOTA_MESSAGE))
    quota = _result("k8s_describe", kind="ResourceQuota", namespace="shop", name="compute", events=[],
                    resources=[{"resource": "limits.memory", "used": "7Gi", "hard": "8Gi", "spent": False},
                               {"resource": "pods", "used": "4", "hard": "20", "spent": False}])
    assert diagnose(alert, _stuck_web(QUOTA_MESSAGE), NOW).mode == "failed-rollout", "the quota unread: as before"
    d = diagnose(alert, [*_stuck_web(QUOTA_MESSAGE), quota], NOW)
    assert d and d.mode == "quota-exceeded" and d.about == "ResourceQuota shop/compute"
    assert d.summary == QUOTA_MESSAGE and d.rollback is None
    assert "ResourceQuota shop/compute: limits.memory used 7Gi of hard 8Gi" in d.quotes
    assert "Deployment shop/web: 3 pods of 4 desired; no pod exists for the rest" in d.quotes


def test_a_limit_range_that_refuses_pods_is_named_by_the_bound_it_sets() -> None:
    alert = _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="web")
    assert ("k8s_list", {"kind": "LimitRange", "namespace": "shop"}) in follow_ups(_stuck_web(LIMIT_MESSAGE))
    ranges = [_result("k8s_describe", kind="LimitRange", namespace="shop", name=name, events=[], limits=[
        {"type": "Container", "resource": "memory", "min": None, "max": top}]) for name, top in
        (("defaults", "4Gi"), ("container-limits", "1Gi"))]
    d = diagnose(alert, [*_stuck_web(LIMIT_MESSAGE), *ranges], NOW)
    assert d and d.mode == "limitrange-rejected" and d.about == "LimitRange shop/container-limits"
    assert d.summary == LIMIT_MESSAGE and d.rollback is None


def test_a_pending_pods_extended_resources_are_quoted() -> None:
    alert = _alert(alertname="KubePodNotReady", namespace="ml", pod="trainer-0")
    pod = _result("k8s_describe", kind="Pod", namespace="ml", name="trainer-0", status="Pending", events=[],
                  init_containers=[], claims=[], controlled_by=[],
                  containers=[{"name": "train", "ready": False, "requests": {"memory": "100Mi", "nvidia.com/gpu": "5"},
                               "limits": {"memory": "100Mi", "nvidia.com/gpu": "5"}}],
                  conditions=[{"type": "PodScheduled", "status": "False", "message":
                               "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are "
                               "available: 3 No preemption victims found for incoming pod."}])
    d = diagnose(alert, [pod], NOW)
    assert d and d.mode == "unschedulable-pods"
    assert "trainer-0 container train requests memory 100Mi, nvidia.com/gpu 5; limits memory 100Mi, nvidia.com/gpu 5" \
        in d.quotes
    assert d.advice and d.advice.startswith("add nodes with free nvidia.com/gpu "), "the nodes' sizes unread"


def test_a_quota_refusing_another_workloads_pods_is_not_this_alerts_cause() -> None:
    quota = _result("k8s_describe", kind="ResourceQuota", namespace="shop", name="compute", events=[],
                    resources=[{"resource": "limits.memory", "used": "7Gi", "hard": "8Gi", "spent": False}])
    alert = _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="api")
    d = diagnose(alert, [*_stuck_web(QUOTA_MESSAGE), quota], NOW)
    assert d is None or d.mode != "quota-exceeded"


def test_a_request_no_node_can_ever_hold_says_so_instead_of_add_nodes() -> None:
    alert = _alert(alertname="KubeJobNotCompleted", namespace="ml", job_name="finetune")
    message = ("0/4 nodes are available: 2 Insufficient cpu, 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes "
               "are available: 4 No preemption victims found for incoming pod.")
    pod = _result("k8s_describe", kind="Pod", namespace="ml", name="finetune-x2x9q", status="Pending", events=[],
                  init_containers=[], claims=[], controlled_by=["Job/finetune"],
                  containers=[{"name": "trainer", "ready": False, "requests": {"cpu": "32", "nvidia.com/gpu": "5"}}],
                  conditions=[{"type": "PodScheduled", "status": "False", "message": message}])
    assert ("k8s_list", {"kind": "Node"}) in follow_ups([pod])
    nodes = _result("k8s_list", kind="Node", items=[
        {"name": "cpu-1", "allocatable": {"cpu": "16", "memory": "64Gi"}},
        {"name": "gpu-1", "allocatable": {"cpu": "48", "memory": "192Gi", "nvidia.com/gpu": "4"}}])
    d = diagnose(alert, [pod, nodes], NOW)
    assert d and d.mode == "unschedulable-pods" and d.advice
    assert "no node can ever hold it (the pod asks for 5 nvidia.com/gpu; the largest node has 4 allocatable)" \
        in d.advice
    bigger = _result("k8s_list", kind="Node", items=[{"name": "gpu-8", "allocatable": {"cpu": "96",
                                                                                       "nvidia.com/gpu": "8"}}])
    assert diagnose(alert, [pod, bigger], NOW).advice.startswith("add nodes with free cpu, nvidia.com/gpu")
    none = _result("k8s_list", kind="Node", items=[{"name": "cpu-1", "allocatable": {"cpu": "64"}}])
    assert diagnose(alert, [pod, none], NOW).advice.startswith("no node has any nvidia.com/gpu (the pod asks for 5): "
                                                               "add nodes that have it")


def test_a_quota_that_refuses_pods_without_requests_asks_for_them() -> None:
    message = ('pods "web-7d4b9c8f6-x2x9q" is forbidden: failed quota: compute: must specify '
               "limits.memory,requests.cpu")
    quota = _result("k8s_describe", kind="ResourceQuota", namespace="shop", name="compute", events=[],
                    resources=[{"resource": "requests.cpu", "used": "2", "hard": "8", "spent": False}])
    alert = _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="web")
    d = diagnose(alert, [*_stuck_web(message), quota], NOW)
    assert d and d.mode == "quota-exceeded" and d.about == "ResourceQuota shop/compute"
    assert d.advice and d.advice.startswith("give every container of the pod limits.memory,requests.cpu")


ACCOUNT_MESSAGE = ('pods "web-7d4b9c8f6-" is forbidden: error looking up service account shop/web-reader: '
                   'serviceaccount "web-reader" not found')
WEBHOOK_MESSAGE = ('Internal error occurred: failed calling webhook "validate.policy.example.com": failed to call '
                   'webhook: Post "https://policy-webhook.policy-system.svc:443/validate?timeout=5s": no endpoints '
                   'available for service "policy-webhook"')


def test_a_missing_serviceaccount_that_refuses_pods_is_the_cause_not_the_rollout() -> None:
    alert = _alert(alertname="KubeDeploymentRolloutStuck", namespace="shop", deployment="web")
    d = diagnose(alert, _stuck_web(ACCOUNT_MESSAGE), NOW)
    assert d and d.mode == "serviceaccount-missing" and d.about == "ServiceAccount shop/web-reader"
    assert d.summary == ACCOUNT_MESSAGE
    assert d.advice and d.advice.startswith("create ServiceAccount shop/web-reader")
    other = _alert(alertname="KubeDeploymentRolloutStuck", namespace="shop", deployment="api")
    assert diagnose(other, _stuck_web(ACCOUNT_MESSAGE), NOW).mode != "serviceaccount-missing", "web's, not api's"


def test_a_webhook_without_a_ready_endpoint_leads_to_its_service_and_the_pods_behind_it() -> None:
    alert = _alert(alertname="KubeDeploymentRolloutStuck", namespace="shop", deployment="web")
    stuck = _stuck_web(WEBHOOK_MESSAGE)
    assert ("k8s_describe", {"kind": "Service", "namespace": "policy-system", "name": "policy-webhook"}) in \
        follow_ups(stuck)
    service = _result("k8s_describe", kind="Service", namespace="policy-system", name="policy-webhook", events=[],
                      endpoints={"ready": [], "not_ready": ["policy-webhook-5f7-abcde 10.244.0.7"]})
    assert ("k8s_pod_logs", {"namespace": "policy-system", "pod": "policy-webhook-5f7-abcde", "tail_lines": 40}) \
        in follow_ups([*stuck, service])
    d = diagnose(alert, [*stuck, service], NOW)
    assert d and d.mode == "admission-webhook-refused" and d.about == "Service policy-system/policy-webhook"
    assert d.summary == WEBHOOK_MESSAGE and d.rollback is None
    assert "Service policy-system/policy-webhook: 0 ready endpoints, not ready: policy-webhook-5f7-abcde" in d.quotes
    assert d.advice and "set the webhook's failurePolicy to Ignore" in d.advice


def test_a_webhook_that_denies_pods_is_quoted_with_its_policy() -> None:
    message = 'admission webhook "validate.policy.example.com" denied the request: image tag latest is not allowed'
    d = diagnose(_alert(alertname="KubeDeploymentRolloutStuck", namespace="shop", deployment="web"),
                 _stuck_web(message), NOW)
    assert d and d.mode == "admission-webhook-refused" and d.summary == message and d.rollback is None
    assert d.advice and d.advice.startswith("change the pods to meet webhook validate.policy.example.com's policy")
