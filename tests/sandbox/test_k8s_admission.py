"""The emulator's admission of a controller's new pod: a LimitRange's bounds per container, then a
ResourceQuota's hard limits against what the namespace's pods hold, refused in the API server's words."""

from __future__ import annotations

from sandbox import scenario
from sandbox.k8s_cluster import Cluster

MANIFESTS = """
name: admission
title: a quota and a limit range
cluster:
  namespaces: [shop]
  objects:
    - kind: ResourceQuota
      metadata: {name: compute, namespace: shop}
      spec: {hard: {limits.memory: 3Gi, pods: "5"}}
    - kind: LimitRange
      metadata: {name: container-limits, namespace: shop}
      spec: {limits: [{type: Container, max: {memory: 2Gi}, min: {memory: 64Mi}}]}
"""


def _cluster(deployments: str) -> Cluster:
    c = Cluster(clock=lambda: 1_800_000_000.0)
    c.load(scenario.parse(MANIFESTS + "  deployments:\n" + deployments), 1_800_000_000.0)
    return c


def _pod(memory_limit: str, memory_request: str | None = None) -> dict:
    res = {"limits": {"memory": memory_limit}, **({"requests": {"memory": memory_request}} if memory_request else {})}
    return {"containers": [{"name": "c", "image": "x", "resources": res}]}


def test_a_limit_range_refuses_a_container_above_its_max_or_below_its_min() -> None:
    c = _cluster("    []\n")
    assert c.admit("shop", "p", _pod("1Gi")) is None
    assert c.admit("shop", "p", _pod("4Gi")) == \
        'pods "p" is forbidden: maximum memory usage per Container is 2Gi, but limit is 4Gi'
    assert c.admit("shop", "p", _pod("1Gi", "32Mi")) == \
        'pods "p" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi'
    assert c.admit("shop", "p", {"containers": [{"name": "c", "image": "x"}]}) == \
        'pods "p" is forbidden: failed quota: compute: must specify limits.memory', "the quota tracks limits.memory"


def test_a_quota_counts_the_namespaces_pods_and_refuses_what_would_pass_hard() -> None:
    c = _cluster("    - {name: web, namespace: shop, replicas: 2, revisions: [{image: w, resources: "
                 "{limits: {memory: 2Gi}}}]}\n")
    assert len(c.pods) == 1, "the second 2Gi pod would take limits.memory to 4Gi of 3Gi"
    (quota,) = c.quotas("shop")
    assert quota["status"] == {"hard": {"limits.memory": "3Gi", "pods": "5"},
                               "used": {"limits.memory": "2Gi", "pods": "1"}}
    (event,) = [e for e in c.events if e["reason"] == "FailedCreate"]
    assert event["involvedObject"]["kind"] == "ReplicaSet" and event["message"].endswith(
        "is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, used: limits.memory=2Gi, "
        "limited: limits.memory=3Gi")
    status = c.deployment("shop", "web")["status"]
    failure = next(x for x in status["conditions"] if x["type"] == "ReplicaFailure")
    assert failure["reason"] == "FailedCreate" and event["message"] == f"Error creating: {failure['message']}"
