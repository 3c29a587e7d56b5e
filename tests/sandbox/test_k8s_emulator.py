"""The Kubernetes API emulator, driven with the official client the way kubectl and opsbot drive a cluster.

These tests change the cluster, so they run against their own emulator (not the session sandbox) and
reload the scenario before each test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from bot.guard.door import Caller
from bot.settings import Settings
from sandbox import k8s, procs, scenario
from tests.support.doors import make_door
from tools.base import Status

NS = "shop"


@dataclass
class Cluster:
    dir: Path
    port: int
    core: client.CoreV1Api
    apps: client.AppsV1Api
    api: client.ApiClient

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pods(self, app: str) -> list[client.V1Pod]:
        return self.core.list_namespaced_pod(NS, label_selector=f"app={app}").items

    def names(self, app: str) -> set[str]:
        return {p.metadata.name for p in self.pods(app)}

    def events(self, **fields: str) -> list[client.CoreV1Event]:
        selector = ",".join(f"{k}={v}" for k, v in fields.items())
        return self.core.list_namespaced_event(NS, field_selector=selector or None).items

    def owned_replica_sets(self, name: str) -> list[client.V1ReplicaSet]:
        """What `kubectl rollout history/undo` does: the deployment's ReplicaSets, by revision."""
        d = self.apps.read_namespaced_deployment(name, NS)
        sets = self.apps.list_namespaced_replica_set(NS, label_selector=f"app={name}").items
        owned = [rs for rs in sets if any(r.uid == d.metadata.uid for r in rs.metadata.owner_references)]
        return sorted(owned, key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"]))


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state = tmp_path_factory.mktemp("k8s-emulator")
    port = procs.free_port()
    k8s.start(state, port)
    api = config.new_client_from_config(config_file=str(k8s.kubeconfig_path(state)))
    yield Cluster(state, port, client.CoreV1Api(api), client.AppsV1Api(api), api)
    procs.stop(k8s.NAME, state)


@pytest.fixture
def kube(own_cluster: Cluster) -> Cluster:
    k8s.load(own_cluster.dir, own_cluster.port, scenario.load("crashloop-missing-env"), time.time())
    return own_cluster


def _ready(p: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)


# -- the API itself -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-token"])
def test_requests_without_the_token_get_a_401_status(kube: Cluster, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = httpx.get(f"{kube.url}/api/v1/namespaces", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_unknown_objects_are_404_not_found_statuses(kube: Cluster) -> None:
    cases = [
        (lambda: kube.core.read_namespace("nope"), 'namespaces "nope" not found'),
        (lambda: kube.core.read_namespaced_pod("nope", NS), 'pods "nope" not found'),
        (lambda: kube.apps.read_namespaced_deployment("nope", NS), 'deployments.apps "nope" not found'),
        (lambda: kube.apps.read_namespaced_deployment_scale("nope", NS), 'deployments.apps "nope" not found'),
    ]
    for call, message in cases:
        with pytest.raises(ApiException) as e:
            call()
        body = json.loads(e.value.body)
        assert (e.value.status, body["kind"], body["reason"], body["message"]) == (404, "Status", "NotFound", message)


def test_selectors_are_honoured(kube: Cluster) -> None:
    assert len(kube.core.list_namespaced_pod(NS).items) == 5
    assert len(kube.pods("checkout")) == 3
    assert kube.core.list_namespaced_pod(NS, label_selector="app!=checkout,app").items[0].metadata.name.startswith(
        "cart-")
    one = sorted(kube.names("checkout"))[0]
    assert [p.metadata.name for p in kube.core.list_namespaced_pod(NS, field_selector=f"metadata.name={one}").items] \
        == [one]
    deploy_events = kube.events(**{"involvedObject.kind": "Deployment"})
    assert [e.reason for e in deploy_events] == ["ScalingReplicaSet"]
    assert {e.involved_object.name for e in kube.events(**{"involvedObject.name": one})} == {one}


def test_pod_objects_carry_what_kubectl_describe_shows(kube: Cluster) -> None:
    p = kube.pods("checkout")[0]
    c = p.spec.containers[0]
    assert c.image == "registry.local/shop/checkout:1.5.0"
    assert [e.name for e in c.env] == ["LOG_LEVEL"]
    assert p.metadata.owner_references[0].kind == "ReplicaSet"
    assert p.metadata.labels["pod-template-hash"] in p.metadata.name
    cs = p.status.container_statuses[0]
    assert (cs.state.waiting.reason, cs.restart_count, cs.ready) == ("CrashLoopBackOff", 9, False)
    assert (cs.last_state.terminated.reason, cs.last_state.terminated.exit_code) == ("Error", 1)
    assert {c.type: c.status for c in p.status.conditions} == {
        "PodScheduled": "True", "Initialized": "True", "ContainersReady": "False", "Ready": "False"}


def test_pod_logs_are_plain_text_with_tail_previous_and_timestamps(kube: Cluster) -> None:
    name = sorted(kube.names("checkout"))[0]
    text = kube.core.read_namespaced_pod_log(name, NS, tail_lines=1)
    assert text == "FATAL config error: required environment variable DATABASE_URL is not set\n"
    stamped = kube.core.read_namespaced_pod_log(name, NS, previous=True, timestamps=True)
    assert stamped.splitlines()[0].split(" ", 1)[1] == "INFO checkout starting version=1.5.0"
    assert stamped[:4].isdigit() and stamped[10] == "T"
    cart = sorted(kube.names("cart"))[0]
    with pytest.raises(ApiException) as e:
        kube.core.read_namespaced_pod_log(cart, NS, previous=True)
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == f'previous terminated container "cart" in pod "{cart}" not found'


def test_an_invalid_patch_is_refused_with_422(kube: Cluster) -> None:
    with pytest.raises(ApiException) as e:
        kube.apps.patch_namespaced_deployment("cart", NS, {"spec": {"replicas": -1}})
    assert e.value.status == 422
    assert "spec.replicas" in json.loads(e.value.body)["message"]


# -- controller effects -------------------------------------------------------------------------------


def test_scaling_up_and_down_adds_and_removes_pods(kube: Cluster) -> None:
    before = kube.names("cart")
    scale = kube.apps.patch_namespaced_deployment_scale("cart", NS, {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4 and scale.status.replicas == 4
    pods = kube.pods("cart")
    assert len(pods) == 4 and before < {p.metadata.name for p in pods}
    assert all(_ready(p) for p in pods)
    d = kube.apps.read_namespaced_deployment("cart", NS)
    assert (d.spec.replicas, d.status.replicas, d.status.ready_replicas, d.status.available_replicas) == (4, 4, 4, 4)
    assert d.status.observed_generation == d.metadata.generation

    kube.apps.patch_namespaced_deployment("cart", NS, {"spec": {"replicas": 1}})
    assert len(kube.pods("cart")) == 1
    assert kube.apps.read_namespaced_deployment_scale("cart", NS).status.replicas == 1
    scaling = [e.message for e in kube.events(**{"involvedObject.name": "cart", "reason": "ScalingReplicaSet"})]
    rs = kube.owned_replica_sets("cart")[0].metadata.name
    assert scaling == [f"Scaled up replica set {rs} to 4 from 2", f"Scaled down replica set {rs} to 1 from 4"]


def test_a_restart_of_a_crashing_revision_stalls_within_max_surge_and_keeps_the_old_pods(kube: Cluster) -> None:
    """3 replicas, maxSurge 25% (1) and maxUnavailable 25% (0): the controller adds one new pod and, since
    it never gets ready, removes none of the old ones, as a real rollout to a broken template does."""
    before = kube.names("checkout")
    restarted = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-22T10:00:00Z"}}}}}
    kube.apps.patch_namespaced_deployment("checkout", NS, restarted)
    pods = kube.pods("checkout")
    new = [p for p in pods if p.metadata.name not in before]
    assert len(pods) == 4 and len(new) == 1 and before <= {p.metadata.name for p in pods}
    cs = new[0].status.container_statuses[0]
    assert cs.image == "registry.local/shop/checkout:1.5.0"
    assert cs.state.waiting.reason == "CrashLoopBackOff" and not _ready(new[0])
    revisions = [(rs.metadata.annotations["deployment.kubernetes.io/revision"], rs.spec.replicas)
                 for rs in kube.owned_replica_sets("checkout")]
    assert revisions == [("1", 0), ("2", 3), ("3", 1)]
    d = kube.apps.read_namespaced_deployment("checkout", NS)
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert (d.status.replicas, d.status.updated_replicas, d.status.ready_replicas) == (4, 1, None)
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert progressing.reason == "ReplicaSetUpdated", "a fresh rollout is progressing, not yet past its deadline"
    assert kube.events(reason="Killing") == []
    reasons = {e.reason for e in kube.events(**{"involvedObject.name": new[0].metadata.name})}
    assert {"Scheduled", "Created", "Started", "BackOff"} <= reasons


def test_a_restart_of_a_healthy_deployment_rolls_pod_by_pod_to_all_new_pods(kube: Cluster) -> None:
    """cart: 2 replicas, maxSurge 1, maxUnavailable 0: up one new, down one old, until all are new."""
    before = kube.names("cart")
    restarted = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-22T10:00:00Z"}}}}}
    kube.apps.patch_namespaced_deployment("cart", NS, restarted)
    pods = kube.pods("cart")
    assert len(pods) == 2 and not before & {p.metadata.name for p in pods} and all(_ready(p) for p in pods)
    old, new = (rs.metadata.name for rs in kube.owned_replica_sets("cart"))
    events = kube.events(**{"involvedObject.name": "cart", "reason": "ScalingReplicaSet"})
    scaling = [e.message for e in sorted(events, key=lambda e: int(e.metadata.resource_version))]
    assert scaling == [f"Scaled up replica set {new} to 1 from 0", f"Scaled down replica set {old} to 1 from 2",
                       f"Scaled up replica set {new} to 2 from 1", f"Scaled down replica set {old} to 0 from 1"]
    assert {e.involved_object.name for e in kube.events(reason="Killing")} == before


def test_a_deleted_pod_is_replaced_under_a_new_name(kube: Cluster) -> None:
    before = kube.names("cart")
    victim = sorted(before)[0]
    deleted = kube.core.delete_namespaced_pod(victim, NS)
    assert deleted.metadata.name == victim and deleted.metadata.deletion_timestamp is not None
    after = kube.names("cart")
    assert len(after) == 2 and victim not in after
    (fresh,) = after - before
    assert fresh.startswith(victim.rsplit("-", 1)[0] + "-")
    assert [e.reason for e in kube.events(**{"involvedObject.name": victim})] == ["Killing"]
    assert "Scheduled" in {e.reason for e in kube.events(**{"involvedObject.name": fresh})}


def _undo_like_kubectl(kube: Cluster, name: str) -> client.V1ReplicaSet:
    """kubectl rollout undo: a JSON patch putting the previous revision's template back (hash label dropped)."""
    previous = kube.owned_replica_sets(name)[-2]
    template = kube.api.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash")
    kube.apps.patch_namespaced_deployment(
        name, NS, [{"op": "replace", "path": "/spec/template", "value": template}],
        _content_type="application/json-patch+json",
    )
    return previous


def _undo_with_strategic_merge(kube: Cluster, name: str) -> client.V1ReplicaSet:
    previous = kube.owned_replica_sets(name)[-2]
    template = kube.api.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash")
    kube.apps.patch_namespaced_deployment(name, NS, {"spec": {"template": template}})
    return previous


@pytest.mark.parametrize("undo", [_undo_like_kubectl, _undo_with_strategic_merge])
def test_patching_the_old_template_back_is_a_rollback_to_healthy_pods(
    kube: Cluster, undo, settings: Settings, oncall: Caller
) -> None:
    previous = undo(kube, "checkout")
    sets = kube.owned_replica_sets("checkout")
    assert len(sets) == 2, "the old ReplicaSet is reused, not duplicated"
    assert sets[-1].metadata.name == previous.metadata.name
    assert sets[-1].metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert sets[-1].metadata.annotations["deployment.kubernetes.io/revision-history"] == "1", \
        "as the deployment controller records the numbers a reused ReplicaSet had"
    pods = kube.pods("checkout")
    assert len(pods) == 3 and all(_ready(p) for p in pods)
    assert {p.status.container_statuses[0].image for p in pods} == {"registry.local/shop/checkout:1.4.2"}
    assert all(p.status.container_statuses[0].state.running for p in pods)

    door = make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(kube.dir)})}))
    r = door.run("k8s_describe", {"namespace": NS, "kind": "Deployment", "name": "checkout"}, oncall)
    assert r.status == Status.success
    assert r.data["healthy"] is True and r.data["revision"] == 3
    assert r.data["image"] == "registry.local/shop/checkout:1.4.2"
    assert [x["revision"] for x in r.data["revisions"]] == [2, 3]
    described = door.run("k8s_describe", {"namespace": NS, "kind": "Pod", "name": pods[0].metadata.name}, oncall)
    assert described.data["containers"][0]["env"] == ["DATABASE_URL", "LOG_LEVEL"]
    assert "postgres://" not in described.model_dump_json(), "env values (secrets) never leave the tool"
    logs = door.run("k8s_pod_logs", {"namespace": NS, "pod": "checkout"}, oncall)
    assert "INFO listening on :8080" in logs.data["lines"]


def test_loading_the_scenario_again_resets_the_cluster(kube: Cluster) -> None:
    kube.apps.patch_namespaced_deployment_scale("cart", NS, {"spec": {"replicas": 0}})
    assert kube.pods("cart") == []
    k8s.load(kube.dir, kube.port, scenario.load("crashloop-missing-env"), time.time())
    assert len(kube.pods("cart")) == 2
    assert [e.reason for e in kube.events(**{"involvedObject.name": "cart"})] == []


def test_old_replica_sets_beyond_the_history_limit_are_pruned(kube: Cluster) -> None:
    for n in range(12):
        stamp = {"kubectl.kubernetes.io/restartedAt": f"2026-11-22T10:{n:02d}:00Z"}
        kube.apps.patch_namespaced_deployment("cart", NS, {"spec": {"template": {"metadata": {"annotations": stamp}}}})
    revisions = [int(rs.metadata.annotations["deployment.kubernetes.io/revision"])
                 for rs in kube.owned_replica_sets("cart")]
    assert revisions == list(range(3, 14)), "10 old revisions kept, plus the live one"
    assert len(kube.pods("cart")) == 2


@pytest.mark.parametrize("name", scenario.shipped())
def test_every_shipped_scenario_loads_and_reads_back_through_the_client(
    own_cluster: Cluster, name: str, settings: Settings, oncall: Caller
) -> None:
    loaded = scenario.load(name)
    k8s.load(own_cluster.dir, own_cluster.port, loaded, time.time())
    door = make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(own_cluster.dir)})}))
    for d in loaded.cluster.deployments:
        pods = door.run("k8s_list", {"namespace": d.namespace, "deployment": d.name}, oncall)
        got = door.run("k8s_describe", {"namespace": d.namespace, "kind": "Deployment", "name": d.name}, oncall)
        assert got.data["image"].split(", ")[0] == d.revisions[-1].image  # sidecars' images follow the main one
        assert len(got.data["revisions"]) == len(d.revisions)
        # the Deployment's own replicas, and any pod its selector also matches (evicted leftovers); fewer only
        # where admission refused them (a ResourceQuota, a LimitRange), which the Deployment then says
        refused = [c for c in got.data["conditions"] if c["type"] == "ReplicaFailure" and c["reason"] == "FailedCreate"]
        made = pods.data["pods"] if pods.status == Status.success else []
        assert len(made) >= d.replicas or (refused and len(made) == got.data["replicas"]["current"])
        if not made:
            continue
        first = pods.data["pods"][0]["name"]
        described = door.run("k8s_describe", {"namespace": d.namespace, "kind": "Pod", "name": first}, oncall)
        env = list(d.revisions[-1].env)  # then any the revision's spec adds to the main container
        assert described.data["containers"][0]["env"][:len(env)] == env
        rev = d.revisions[-1]
        spelled_out = " ".join([*rev.command, *rev.args, json.dumps(rev.spec)])  # the spec's own words
        for value in d.revisions[-1].env.values():
            if len(value) > 3 and value not in spelled_out:  # ("0" is in any number)
                assert value not in described.model_dump_json(), "env values never leave the tool"


def test_oom_killed_pods_that_are_running_again_still_count_as_unhealthy(
    own_cluster: Cluster, settings: Settings, oncall: Caller
) -> None:
    k8s.load(own_cluster.dir, own_cluster.port, scenario.load("oom-memory-leak"), time.time())
    door = make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(own_cluster.dir)})}))
    r = door.run("k8s_list", {"namespace": "payments", "only_unhealthy": True}, oncall)
    assert r.status == Status.success
    for p in r.data["pods"]:
        assert (p["status"], p["ready"], p["restarts"]) == ("Running", "1/1", 6)
        assert (p["last_termination"]["reason"], p["last_termination"]["exit_code"]) == ("OOMKilled", 137)
    d = door.run("k8s_describe", {"namespace": "payments", "kind": "Pod", "name": r.data["pods"][0]["name"]}, oncall)
    assert d.data["containers"][0]["limits"] == {"memory": "512Mi"}
