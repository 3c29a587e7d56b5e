"""Every kind the emulator serves, read back through the official client on the paths it uses, with the
controller effects a user sees: Job retries up to backoffLimit, ordered StatefulSet pods, a DaemonSet pod
per fitting node, the scheduler's words for Pending pods, claims binding or not, Endpoints by readiness."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.every_kind import every_kind_cluster


@dataclass
class Api:
    core: client.CoreV1Api
    apps: client.AppsV1Api
    batch: client.BatchV1Api
    net: client.NetworkingV1Api
    storage: client.StorageV1Api
    hpa: client.AutoscalingV2Api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with every_kind_cluster(tmp_path_factory.mktemp("k8s-kinds")) as kubeconfig:
        c = config.new_client_from_config(config_file=str(kubeconfig))
        yield Api(client.CoreV1Api(c), client.AppsV1Api(c), client.BatchV1Api(c), client.NetworkingV1Api(c),
                  client.StorageV1Api(c), client.AutoscalingV2Api(c))


def test_nodes_report_capacity_taints_and_conditions(api: Api) -> None:
    nodes = {n.metadata.name: n for n in api.core.list_node().items}
    assert sorted(nodes) == ["gpu-a", "node-a", "node-b"]
    gpu = api.core.read_node("gpu-a")
    assert gpu.status.capacity["nvidia.com/gpu"] == "1" and gpu.status.allocatable["pods"] == "110"
    assert [(t.key, t.value, t.effect) for t in gpu.spec.taints] == [("nvidia.com/gpu", "present", "NoSchedule")]
    pressure = {c.type: c.status for c in nodes["node-b"].status.conditions}
    assert pressure["MemoryPressure"] == "True" and pressure["Ready"] == "True"
    on_a = api.core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-a").items
    assert on_a and all(p.spec.node_name == "node-a" for p in on_a)


def test_a_failing_job_retries_up_to_its_backoff_limit_then_fails(api: Api) -> None:
    job = api.batch.read_namespaced_job("db-migrate", "batch")
    assert [(c.type, c.reason, c.message) for c in job.status.conditions] == [
        (t, "BackoffLimitExceeded", "Job has reached the specified backoff limit") for t in ("FailureTarget", "Failed")
    ], "as the job controller writes them since Kubernetes 1.31 (the API server refuses Failed alone)"
    assert job.status.failed == 3, "backoffLimit 2: the first try and two retries"
    pods = api.core.list_namespaced_pod("batch", label_selector="job-name=db-migrate").items
    assert len(pods) == 3 and {p.status.phase for p in pods} == {"Failed"}
    assert all(p.metadata.owner_references[0].kind == "Job" for p in pods)
    log = api.core.read_namespaced_pod_log(pods[0].metadata.name, "batch")
    assert "ERROR All host(s) tried for db query failed (tried: prod-db:3333)" in log
    env = pods[0].spec.containers[0].env[0]
    assert env.value_from.secret_key_ref.name == "db-credentials" and env.value is None
    events = api.core.list_namespaced_event("batch", field_selector="involvedObject.kind=Job,"
                                            "involvedObject.name=db-migrate").items
    assert {e.reason for e in events} == {"SuccessfulCreate", "BackoffLimitExceeded"}


def test_a_cronjob_made_its_job_at_the_last_scheduled_minute(api: Api) -> None:
    cron = api.batch.read_namespaced_cron_job("nightly-report", "batch")
    assert cron.status.last_schedule_time.isoformat() == "2026-03-14T02:00:00+00:00"
    jobs = [j for j in api.batch.list_namespaced_job("batch").items
            if (j.metadata.owner_references or [None])[0] and j.metadata.owner_references[0].kind == "CronJob"]
    (job,) = jobs
    assert job.metadata.name == f"nightly-report-{int(cron.status.last_schedule_time.timestamp() // 60)}"
    assert job.status.succeeded == 1
    assert [c.type for c in job.status.conditions] == ["SuccessCriteriaMet", "Complete"]


def test_statefulset_pods_come_in_order_and_wait_for_their_claims(api: Api) -> None:
    sts = api.apps.read_namespaced_stateful_set("postgres", "data")
    assert (sts.spec.replicas, sts.status.replicas) == (3, 1), "OrderedReady: postgres-1 waits for postgres-0"
    (pod,) = api.core.list_namespaced_pod("data", label_selector="app=postgres").items
    assert pod.metadata.name == "postgres-0" and pod.status.phase == "Pending"
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert scheduled.message == ("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
                                 "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    claim = api.core.read_namespaced_persistent_volume_claim("data-postgres-0", "data")
    assert claim.status.phase == "Pending" and claim.spec.storage_class_name == "fast-ssd"
    events = api.core.list_namespaced_event("data", field_selector="involvedObject.name=data-postgres-0").items
    assert [(e.reason, e.message) for e in events] == [
        ("ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found')]


def test_a_claim_without_a_class_binds_through_the_default_class(api: Api) -> None:
    claim = api.core.read_namespaced_persistent_volume_claim("reports", "batch")
    assert claim.status.phase == "Bound" and claim.spec.storage_class_name == "standard"
    volume = api.core.read_persistent_volume(claim.spec.volume_name)
    assert volume.status.phase == "Bound" and volume.spec.claim_ref.name == "reports"
    assert api.storage.read_storage_class("standard").provisioner == "pd.csi.storage.gke.io"
    # as the persistentvolume controller marks it: kube-scheduler counts a claim bound only with this annotation
    assert claim.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"


def test_a_daemonset_runs_one_pod_per_node_whose_taints_it_tolerates(api: Api) -> None:
    pods = api.core.list_namespaced_pod("monitoring", label_selector="app=node-exporter").items
    assert sorted(p.spec.node_name for p in pods) == ["node-a", "node-b"], "gpu-a's taint is not tolerated"
    ds = api.apps.read_namespaced_daemon_set("node-exporter", "monitoring")
    assert (ds.status.desired_number_scheduled, ds.status.number_ready) == (2, 2)


def test_a_pod_asking_for_more_gpus_than_any_node_has_is_pending_with_the_schedulers_words(api: Api) -> None:
    (pod,) = api.core.list_namespaced_pod("data", label_selector="app=trainer").items
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    expected = ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
                "3 No preemption victims found for incoming pod.")
    assert next(c for c in pod.status.conditions if c.type == "PodScheduled").message == expected
    events = api.core.list_namespaced_event("data", field_selector=f"involvedObject.name={pod.metadata.name}").items
    assert [(e.reason, e.message) for e in events] == [("FailedScheduling", expected)]


def test_init_and_sidecar_containers_have_their_own_states_and_logs(api: Api) -> None:
    shell = api.core.read_namespaced_pod("debug-shell", "shop")
    (init,) = shell.status.init_container_statuses
    assert (init.name, init.state.waiting.reason, init.restart_count) == ("wait-for-db", "CrashLoopBackOff", 3)
    assert init.last_state.terminated.exit_code == 127
    assert shell.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    initialized = next(c for c in shell.status.conditions if c.type == "Initialized")
    assert (initialized.status, initialized.message) == ("False", "containers with incomplete status: [wait-for-db]")
    assert api.core.read_namespaced_pod_log("debug-shell", "shop", container="wait-for-db",
                                            previous=True) == "sh: nc: not found\n"
    web = api.core.read_namespaced_pod("web-5d8f7c9b4-abcde", "shop")
    assert [c.name for c in web.spec.containers] == ["nginx", "log-shipper"]
    with pytest.raises(ApiException) as e:
        api.core.read_namespaced_pod_log("web-5d8f7c9b4-abcde", "shop")
    assert e.value.status == 400 and "a container name must be specified" in e.value.body
    assert api.core.read_namespaced_pod_log("web-5d8f7c9b4-abcde", "shop", container="nginx") == \
        "INFO nginx started\nGET / 200\n"
    shipper = api.core.read_namespaced_pod_log("web-5d8f7c9b4-abcde", "shop", container="log-shipper", previous=True)
    assert shipper == "ERROR [output:es] host es.logging:9200 unreachable\n"
    assert web.spec.containers[0].resources.requests == {"cpu": "250m", "memory": "128Mi"}


def test_set_based_selectors_select_like_the_api_server(api: Api) -> None:
    names = lambda sel: sorted(p.metadata.name for p in api.core.list_namespaced_pod("shop", label_selector=sel).items)  # noqa: E731
    assert names("app in (web,debug),tier notin (canary)") == ["debug-shell", "web-5d8f7c9b4-abcde",
                                                                "web-5d8f7c9b4-fghij"]
    assert names("tier") == ["debug-shell"] and names("!tier,app") == ["web-5d8f7c9b4-abcde", "web-5d8f7c9b4-fghij"]
    with pytest.raises(ApiException) as e:
        api.core.list_namespaced_pod("shop", label_selector="app in ()")
    assert e.value.status == 400


def test_a_service_has_endpoints_by_readiness_and_other_objects_read_back(api: Api) -> None:
    (subset,) = api.core.read_namespaced_endpoints("web", "shop").subsets
    assert subset.addresses is None, "the crash-looping sidecar keeps both pods unready"
    assert sorted(a.target_ref.name for a in subset.not_ready_addresses) == ["web-5d8f7c9b4-abcde",
                                                                             "web-5d8f7c9b4-fghij"]
    assert subset.ports[0].port == 8080
    svc = api.core.read_namespaced_service("web", "shop")
    assert svc.spec.type == "ClusterIP" and svc.spec.cluster_ip.startswith("10.96.")
    secret = api.core.read_namespaced_secret("db-credentials", "batch")
    assert base64.b64decode(secret.data["password"]).decode() == "hunter2-very-secret"
    assert api.core.read_namespaced_config_map("web-config", "shop").data["nginx.conf"].startswith("server")
    policy = api.net.read_namespaced_network_policy("deny-egress", "shop")
    assert policy.spec.policy_types == ["Egress"] and policy.spec.egress == []
    hpa = api.hpa.read_namespaced_horizontal_pod_autoscaler("web", "shop")
    assert (hpa.status.desired_replicas, hpa.spec.max_replicas) == (10, 10)
    assert hpa.status.conditions[0].reason == "TooManyReplicas"


def test_events_land_on_the_one_named_pod_and_times_follow_the_pinned_clock(api: Api) -> None:
    unhealthy = api.core.list_namespaced_event("shop", field_selector="reason=Unhealthy").items
    assert [e.involved_object.name for e in unhealthy] == ["web-5d8f7c9b4-abcde"]
    assert unhealthy[0].last_timestamp.isoformat() == "2026-03-14T09:25:00+00:00", "-1m from the pinned now"
    node_events = api.core.list_namespaced_event("default", field_selector="involvedObject.kind=Node").items
    assert [(e.involved_object.name, e.reason) for e in node_events] == [("node-b", "EvictionThresholdMet")]


def test_unknown_resources_and_cluster_scoped_kinds_in_a_namespace_are_404(api: Api) -> None:
    conf = api.core.api_client.configuration
    auth = {"Authorization": conf.api_key["BearerToken"]}
    for path in ("/api/v1/namespaces/shop/nodes", "/apis/batch/v1/namespaces/batch/widgets",
                 "/apis/apps/v2/daemonsets"):
        r = httpx.get(conf.host + path, headers=auth)
        assert (r.status_code, r.json()["reason"]) == (404, "NotFound"), path
    with pytest.raises(ApiException) as e:
        api.batch.read_namespaced_job("nope", "batch")
    assert e.value.status == 404 and 'jobs.batch \\"nope\\" not found' in e.value.body
