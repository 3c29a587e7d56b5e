"""Scenario keys the real control plane enforces (the sandbox on it, `--kubernetes real`): a pod naming a
ServiceAccount that does not exist, a ResourceQuota without room, and a validating webhook with no ready endpoint
are refused by the real API server, and its ReplicaSet controller reports each as FailedCreate; an object a
scenario deleted stays Terminating on its finalizer; a rollout whose new pods cannot be made keeps the old
revision's pods serving. The API token volume the ServiceAccount plugin mounts is not read as a program's config."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from kubernetes.client.exceptions import ApiException

from bot.guard.door import Caller
from sandbox import scenario
from tests.controlplane.conftest import RealSandbox
from tests.support.alerting import wait_for
from tests.support.doors import SCENARIO, make_door
from tools.base import Status

SETTLE = 60  # seconds: the controllers act within a few
WHO = Caller(identity="cli:controlplane-test")
CONTROLLER = "replicaset-controller"


@pytest.fixture(scope="module")
def loaded(real_sandbox: RealSandbox) -> Iterator[Callable[[str], None]]:
    """Load a shipped scenario into the real sandbox (unless it is the one loaded last); the sandbox's own
    scenario is back after the module. What a test makes beside the scenario it deletes itself."""
    last: list[str] = []

    def load(name: str) -> None:
        if last[-1:] != [name]:
            real_sandbox.sandbox.load(scenario.load(name))
            last.append(name)

    yield load
    real_sandbox.sandbox.load(scenario.load(SCENARIO))


@contextmanager
def made(rs: RealSandbox, ns: str, deployment: dict) -> Iterator[None]:
    rs.apps.create_namespaced_deployment(ns, deployment)
    try:
        yield
    finally:
        rs.apps.delete_namespaced_deployment(deployment["metadata"]["name"], ns, propagation_policy="Background")


def _deployment(name: str, spec: dict | None = None, resources: dict | None = None) -> dict:
    container = {"name": "app", "image": f"registry.example.com/{name}:1.0", **({"resources": resources}
                                                                                 if resources else {})}
    return {"metadata": {"name": name}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                                 "template": {"metadata": {"labels": {"app": name}},
                                                              "spec": {"containers": [container], **(spec or {})}}}}


def _failed_create(rs: RealSandbox, ns: str, deployment: str) -> str | None:
    """The message of the FailedCreate event the real ReplicaSet controller recorded for the deployment's pods."""
    for e in rs.core.list_namespaced_event(ns, field_selector="reason=FailedCreate").items:
        if e.involved_object.kind == "ReplicaSet" and e.involved_object.name.startswith(f"{deployment}-") \
                and (e.source.component if e.source else None) == CONTROLLER:
            return e.message
    return None


def _refused(rs: RealSandbox, ns: str, pod_spec: dict) -> str:
    name = f"probe-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApiException) as refused:
        rs.core.create_namespaced_pod(ns, {"metadata": {"name": name}, "spec": pod_spec})
    return refused.value.body


def test_a_missing_serviceaccount_refuses_the_pods_and_the_replicaset_controller_says_so(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("serviceaccount-missing-new-pods-refused")
    rs = real_sandbox
    body = _refused(rs, "finance", {"serviceAccountName": "nobody", "containers": [
        {"name": "app", "image": "x", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]})
    assert 'error looking up service account finance/nobody: serviceaccount \\"nobody\\" not found' in body
    with made(rs, "finance", _deployment("orphan", {"serviceAccountName": "nobody"},
                                         {"requests": {"cpu": "100m", "memory": "64Mi"}})):
        message = wait_for(lambda: _failed_create(rs, "finance", "orphan"), SETTLE, "the ReplicaSet controller's "
                           "FailedCreate")
    assert message.startswith('Error creating: pods "orphan-') and message.endswith(
        'is forbidden: error looking up service account finance/nobody: serviceaccount "nobody" not found')


def test_the_old_revision_keeps_serving_while_the_new_one_cannot_make_a_pod(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("serviceaccount-missing-new-pods-refused")
    rs = real_sandbox
    message = wait_for(lambda: _failed_create(rs, "finance", "ledger-api"), SETTLE, "the new ReplicaSet's refusal")
    assert message.endswith('serviceaccount "ledger-api-reader" not found')
    pods = rs.core.list_namespaced_pod("finance", label_selector="app=ledger-api").items
    assert sorted(p.spec.containers[0].image for p in pods) == ["registry.example.com/finance/ledger-api:2.6.3"] * 4
    assert all(c.status == "True" for p in pods for c in p.status.conditions if c.type == "Ready")
    d = rs.apps.read_namespaced_deployment("ledger-api", "finance")
    assert d.status.updated_replicas in (None, 0) and d.status.available_replicas == 4


def test_a_quota_without_room_refuses_the_pods(real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("serviceaccount-missing-new-pods-refused")  # ResourceQuota finance/compute: requests.memory 16Gi
    rs = real_sandbox
    with made(rs, "finance", _deployment("too-big", resources={"requests": {"cpu": "100m", "memory": "64Gi"}})):
        message = wait_for(lambda: _failed_create(rs, "finance", "too-big"), SETTLE, "the quota's refusal")
    assert "is forbidden: exceeded quota: compute, requested: requests.memory=64Gi, used: requests.memory=" in message


def test_a_webhook_without_a_ready_endpoint_refuses_new_pods_and_a_deleted_service_stays_terminating(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("admission-webhook-down-blocks-rollout")
    rs = real_sandbox
    body = _refused(rs, "shop", {"containers": [{"name": "app", "image": "x"}]})
    assert 'failed calling webhook \\"validate.policy.example.com\\": failed to call webhook: Post ' \
        '\\"https://policy-webhook.policy-system.svc:443/validate?timeout=5s\\": no endpoints available for ' \
        'service \\"policy-webhook\\"' in body
    rs.core.create_namespaced_pod("policy-system", {"metadata": {"name": "outside-its-selector"}, "spec": {
        "containers": [{"name": "app", "image": "x"}]}})  # its namespaceSelector leaves policy-system out
    rs.core.delete_namespaced_pod("outside-its-selector", "policy-system", grace_period_seconds=0)
    message = wait_for(lambda: _failed_create(rs, "shop", "checkout"), SETTLE, "the new ReplicaSet's refusal")
    assert message.startswith('Error creating: Internal error occurred: failed calling webhook')
    pods = rs.core.list_namespaced_pod("shop", label_selector="app=checkout").items
    assert sorted(p.spec.containers[0].image for p in pods) == ["registry.example.com/shop/checkout:3.1.4"] * 3

    lb = rs.core.read_namespaced_service("legacy-lb", "shop")
    assert lb.metadata.deletion_timestamp is not None
    assert lb.metadata.finalizers == ["service.kubernetes.io/load-balancer-cleanup"]
    rs.core.delete_namespaced_service("legacy-lb", "shop")  # deleting again changes nothing: the finalizer holds it
    assert rs.core.read_namespaced_service("legacy-lb", "shop").metadata.deletion_timestamp is not None


def test_a_rollout_whose_new_pod_never_gets_ready_keeps_both_revisions_serving(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("stalled-rollout-two-revisions")  # maxSurge 0, maxUnavailable 1, 4 replicas
    rs = real_sandbox

    def settled() -> bool:
        d = rs.apps.read_namespaced_deployment("invoice-service", "billing")
        progressing = next((c for c in d.status.conditions or [] if c.type == "Progressing"), None)
        return d.status.observed_generation == d.metadata.generation and progressing is not None \
            and progressing.reason == "ProgressDeadlineExceeded"

    wait_for(settled, SETTLE, "the real deployment controller to observe the stalled rollout")
    pods = rs.core.list_namespaced_pod("billing", label_selector="app=invoice-service").items
    ready = {p.metadata.name: any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
             for p in pods}
    by_image = sorted((p.spec.containers[0].image.rsplit(":", 1)[1], ready[p.metadata.name]) for p in pods)
    assert by_image == [("1.9.4", True)] * 3 + [("2.0.0", False)], "3 old pods serve beside the new one"
    d = rs.apps.read_namespaced_deployment("invoice-service", "billing")
    assert (d.status.updated_replicas, d.status.available_replicas, d.status.replicas) == (1, 3, 4)


def test_the_controllers_refusals_of_one_scenario_are_gone_when_the_next_is_loaded(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded("admission-webhook-down-blocks-rollout")
    rs = real_sandbox
    wait_for(lambda: _failed_create(rs, "shop", "checkout"), SETTLE, "the new ReplicaSet's refusal")
    loaded(SCENARIO)  # shop/checkout again, crash-looping: no webhook, no FailedCreate
    assert not [e.message for e in rs.core.list_namespaced_event("shop").items if "webhook" in (e.message or "")]


def test_the_api_token_volume_every_pod_gets_is_not_read_as_the_programs_config(
        real_sandbox: RealSandbox, loaded: Callable[[str], None]) -> None:
    loaded(SCENARIO)
    rs = real_sandbox
    pod = rs.core.list_namespaced_pod("shop", label_selector="app=cart").items[0]
    (api,) = [v for v in pod.spec.volumes if v.name.startswith("kube-api-access-")]  # the ServiceAccount plugin's
    assert any(s.config_map and s.config_map.name == "kube-root-ca.crt" for s in api.projected.sources)
    described = make_door(rs.settings).run("k8s_describe", {"kind": "Pod", "namespace": "shop",
                                                              "name": pod.metadata.name}, WHO)
    assert described.status == Status.success, described.error
    assert not [r for r in described.data.get("config_refs") or [] if "kube-root-ca.crt" in str(r)]
