"""The emulator's admission of a controller's new pod: a LimitRange's bounds per container, the pod's
ServiceAccount, a ResourceQuota's hard limits against what the namespace's pods hold, then validating webhooks,
refused in the API server's words; and an object a scenario deleted stays Terminating on its finalizers."""

from __future__ import annotations

import pytest

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


NOW = 1_800_000_000.0


def _loaded(name: str) -> Cluster:
    c = Cluster(clock=lambda: NOW)
    c.load(scenario.load(name), NOW)
    return c


def _serving(c: Cluster, ns: str, app: str) -> list[str]:
    return sorted(p["spec"]["containers"][0]["image"] for (pns, _), p in c.pods.items()
                  if pns == ns and p["metadata"]["labels"].get("app") == app)


def test_a_pod_naming_a_serviceaccount_that_does_not_exist_is_refused_and_the_old_revision_serves() -> None:
    c = _loaded("serviceaccount-missing-new-pods-refused")
    assert _serving(c, "finance", "ledger-api") == ["registry.example.com/finance/ledger-api:2.6.3"] * 4
    (event,) = [e for e in c.events if e["reason"] == "FailedCreate"]
    assert event["involvedObject"]["kind"] == "ReplicaSet"
    new_rs = event["involvedObject"]["name"]
    assert event["message"] == (f'Error creating: pods "{new_rs}-" is forbidden: error looking up service account '
                                'finance/ledger-api-reader: serviceaccount "ledger-api-reader" not found'), \
        "the name the ReplicaSet asks for (generateName), as the API server words it"
    asks = {"name": "c", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}
    assert c.admit("finance", "p", {"serviceAccountName": "ledger-api", "containers": [asks]}) is None, \
        "an account that exists admits the pod"
    assert c.admit("finance", "p", {"containers": [asks]}) is None, "the namespace's default account exists"


def test_a_webhook_whose_service_has_no_ready_endpoint_refuses_new_pods_but_not_those_made_before_it() -> None:
    c = _loaded("admission-webhook-down-blocks-rollout")
    assert _serving(c, "shop", "checkout") == ["registry.example.com/shop/checkout:3.1.4"] * 3
    (event,) = [e for e in c.events if e["reason"] == "FailedCreate"]
    assert event["message"] == (
        'Error creating: Internal error occurred: failed calling webhook "validate.policy.example.com": failed to '
        'call webhook: Post "https://policy-webhook.policy-system.svc:443/validate?timeout=5s": no endpoints '
        'available for service "policy-webhook"')
    pod = {"containers": [{"name": "c", "image": "x"}]}
    assert c.admit("policy-system", "p", pod) is None, "its namespaceSelector leaves policy-system out"
    assert c.admit("shop", "p", pod, created=NOW - 7200) is None, "the webhook was made an hour ago"
    hook = c.objects[("validatingwebhookconfigurations", "", "policy-validation")]["webhooks"][0]
    hook["failurePolicy"] = "Ignore"
    assert c.admit("shop", "p", pod) is None, "failurePolicy Ignore admits what it cannot ask"


def test_an_object_a_scenario_deleted_stays_terminating_and_one_without_finalizers_is_refused() -> None:
    c = _loaded("admission-webhook-down-blocks-rollout")
    lb = c.get("services", "shop", "legacy-lb")["metadata"]
    assert lb["deletionTimestamp"] == "2027-01-15T05:00:00Z" and lb["finalizers"] == [
        "service.kubernetes.io/load-balancer-cleanup"]
    with pytest.raises(scenario.ScenarioError, match="objects.0..deleted: an object deleted without finalizers"):
        scenario.parse(MANIFESTS.replace("      spec: {hard:", "      deleted: -1h\n      spec: {hard:"))
