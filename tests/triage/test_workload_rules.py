"""Workloads, autoscalers and ServiceAccounts: the diagnosis names the object that holds the cause — the HPA
that cannot compute replicas and the container without a request, the rollout stalled halfway with old pods
serving, the ServiceAccount without a workload identity — and proposes a rollback by mechanism, not by timing:
where what the release changed in the failing container is what the failure follows from, however long before
the symptom, and never where it changed nothing the failure involves (the card says why). Results are shaped as
the read tools return them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.follow import autoscaling, identity
from tools.base import Status, ToolResult
from tools.k8s_revisions import Revision, plan

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
BLIND = ("the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for "
         "cpu in container otel-collector of Pod storefront-6d8c-4xk2p")


def _alert(name: str = "StorefrontHighLatency", **labels: str) -> Alert:
    labels = {"alertname": name, "namespace": "web", "service": "storefront", **labels}
    return Alert(source="alertmanager", name=name, status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _result(tool: str, **data: Any) -> ToolResult:
    return ToolResult(tool=tool, status=Status.success, invocation=tool, data=data)


def _deployment(name: str, ns: str, *templates: tuple[timedelta, list[dict[str, Any]]], pods: tuple[int, ...] = (),
                ready: int = 0) -> ToolResult:
    rows = [Revision(i + 1, f"{name}-{i + 1}", ", ".join(c["image"] for c in cs),
                     {"labels": {"app": name}, "spec": {"containers": cs}}, NOW - age,
                     pods[i] if i < len(pods) else 0, ready if i < len(templates) - 1 else 0)
            for i, (age, cs) in enumerate(templates)]
    revisions = [{"revision": r.number, "image": r.image, "created": r.created.isoformat(),
                  "replica_set": r.replica_set, "pods": r.pods, "live": r is rows[-1]} for r in rows]
    return _result("k8s_describe", kind="Deployment", namespace=ns, name=name, revisions=revisions, conditions=[],
                   replicas={"desired": sum(pods), "ready": ready}, rollout="rolling out",
                   rollback=plan(f"{ns}/{name}", rows[-1], rows).data())


def _pod(ns: str, name: str, owner: str, containers: list[dict[str, Any]], **extra: Any) -> ToolResult:
    return _result("k8s_describe", kind="Pod", namespace=ns, name=name, containers=containers, events=[],
                   conditions=[], init_containers=[],
                   controlled_by=[f"ReplicaSet/{owner}", f"Deployment/{owner.rsplit('-', 1)[0]}"], **extra)


def _hpa() -> ToolResult:
    return _result("k8s_describe", kind="HorizontalPodAutoscaler", namespace="web", name="storefront",
                   target="Deployment/storefront", min_replicas=3, max_replicas=12, current_replicas=3,
                   conditions=[{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
                               {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
                                "message": BLIND}],
                   events=[{"type": "Warning", "reason": "FailedComputeMetricsReplicas",
                            "object": "HorizontalPodAutoscaler/storefront",
                            "message": "invalid metrics (1 invalid out of 1), first error is: failed to get cpu "
                                       "resource metric value: " + BLIND.split(": ", 1)[1]}])


def _running(name: str, requests: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "ready": True, "restarts": 0, "state": {"state": "running"}, "requests": requests}


MAIN = {"name": "storefront", "image": "web/storefront:5.2.0", "resources": {"requests": {"cpu": "500m"}}}
SIDECAR = {"name": "otel-collector", "image": "otel/opentelemetry-collector-contrib:0.111.0"}


def test_an_hpa_blind_since_a_release_added_a_sidecar_without_a_request_names_both_and_rolls_back() -> None:
    pod = _pod("web", "storefront-6d8c-4xk2p", "storefront-2",
               [_running("storefront", {"cpu": "500m"}), _running("otel-collector", {})])
    d = diagnose(_alert(), [_hpa(), pod, _deployment("storefront", "web", (timedelta(days=10), [MAIN]),
                                                     (timedelta(hours=3), [MAIN, SIDECAR]))], NOW)
    assert d and d.mode == "hpa-missing-request" and d.about == "HorizontalPodAutoscaler web/storefront"
    assert "ScalingActive False (FailedGetResourceMetric)" in d.summary and "otel-collector" in d.summary
    assert "Pod web/storefront-6d8c-4xk2p container otel-collector: requests none" in d.quotes
    assert d.rollback == {"namespace": "web", "deployment": "storefront"}
    assert d.advice and "container otel-collector added (otel/opentelemetry-collector-contrib:0.111.0)" in d.advice


def test_an_hpa_blind_from_a_container_no_release_touched_gets_advice_to_set_the_request_not_a_rollback() -> None:
    pod = _pod("web", "storefront-6d8c-4xk2p", "storefront-2",
               [_running("storefront", {"cpu": "500m"}), _running("otel-collector", {})])
    image = {**MAIN, "image": "web/storefront:5.3.0"}
    d = diagnose(_alert(), [_hpa(), pod, _deployment("storefront", "web", (timedelta(days=10), [MAIN, SIDECAR]),
                                                     (timedelta(hours=3), [image, SIDECAR]))], NOW)
    assert d and d.mode == "hpa-missing-request" and d.rollback is None
    assert d.advice and d.advice.startswith("set a cpu request on container otel-collector of Deployment "
                                            "web/storefront")


def test_the_hpa_is_read_from_its_events_and_then_its_target_and_the_pod_its_message_names() -> None:
    events = _result("k8s_events", namespace="web", events=[
        {"type": "Warning", "reason": "FailedGetResourceMetric", "object": "HorizontalPodAutoscaler/storefront",
         "message": BLIND.split(": ", 1)[1]}])
    assert autoscaling.reads([events]) == [("k8s_describe", {"kind": "HorizontalPodAutoscaler", "namespace": "web",
                                                             "name": "storefront"})]
    assert ("k8s_describe", {"kind": "Pod", "namespace": "web", "name": "storefront-6d8c-4xk2p"}) in \
        autoscaling.reads([_hpa()])
    assert ("k8s_describe", {"kind": "Deployment", "namespace": "web", "name": "storefront"}) in \
        autoscaling.reads([_hpa()])


def test_a_rollout_stalled_halfway_names_the_new_revisions_failure_and_the_old_pods_that_serve() -> None:
    old = {"name": "invoice", "image": "billing/invoice:1.9.4"}
    new = {"name": "invoice", "image": "billing/invoice:2.0.0"}
    crashing = {"name": "invoice", "ready": False, "restarts": 9, "requests": {},
                "state": {"state": "waiting", "reason": "CrashLoopBackOff", "message": "back-off 5m0s"},
                "last_state": {"state": "terminated", "reason": "Error", "exit_code": 2}}
    logs = _result("k8s_pod_logs", pod="invoice-2-x7k", container="invoice", previous=True,
                   lines=["FATAL config: missing required key render.engine in /etc/invoice/config.yaml"])
    d = diagnose(_alert("KubeDeploymentRolloutStuck", namespace="billing", service="", deployment="invoice"),
                 [_pod("billing", "invoice-2-x7k", "invoice-2", [crashing]), logs,
                  _deployment("invoice", "billing", (timedelta(days=8), [old]), (timedelta(minutes=35), [new]),
                              pods=(3, 1), ready=3)], NOW)
    assert d and d.mode == "failed-rollout" and d.about == "Deployment billing/invoice"
    assert d.summary.startswith("1 of 4 pods run billing/invoice:2.0.0 (revision 2) and fail: container invoice "
                                "CrashLoopBackOff")
    assert d.summary.endswith("; 3 pods of billing/invoice:1.9.4 still serve")
    assert any("missing required key render.engine" in q for q in d.quotes)
    assert d.rollback == {"namespace": "billing", "deployment": "invoice"}


def _identity_case(line: str, annotations: dict[str, str] | None) -> list[ToolResult]:
    pod = _pod("media", "upload-api-7f9c-2kq", "upload-api-1", [_running("upload-api", {"cpu": "200m"})],
               service_account="upload-api")
    logs = _result("k8s_pod_logs", pod="upload-api-7f9c-2kq", container="upload-api", lines=[line])
    account = _result("k8s_describe", kind="ServiceAccount", namespace="media", name="upload-api",
                      workload_identity=annotations, image_pull_secrets=[])
    return [pod, logs, account]


def test_an_sdk_without_credentials_is_followed_to_the_serviceaccount_without_the_role_annotation() -> None:
    aws = 'level=error msg="put object failed" err="NoCredentialProviders: no valid providers in chain. Deprecated."'
    results = _identity_case(aws, None)
    assert identity.reads(results[:2]) == [("k8s_describe", {"kind": "ServiceAccount", "namespace": "media",
                                                             "name": "upload-api"})]
    d = diagnose(_alert("HighErrorRate", namespace="media", service="upload-api"), results, NOW)
    assert d and d.mode == "workload-identity-missing" and d.about == "ServiceAccount media/upload-api"
    assert d.summary.startswith("no eks.amazonaws.com/role-arn annotation") and "NoCredentialProviders" in d.summary
    for gcp in ("google.auth.exceptions.DefaultCredentialsError: Your default credentials were not found. To set "
                "up Application Default Credentials, see https://cloud.google.com/docs/authentication",
                "dial: google: could not find default credentials. See https://cloud.google.com/docs/authentication"):
        d = diagnose(_alert("HighErrorRate", namespace="media", service="upload-api"), _identity_case(gcp, None),
                     NOW)
        assert d and d.summary.startswith("no iam.gke.io/gcp-service-account annotation"), gcp


def test_an_annotated_serviceaccount_is_not_blamed() -> None:
    aws = "botocore.exceptions.NoCredentialsError: Unable to locate credentials"
    role = {"eks.amazonaws.com/role-arn": "AWS IAM role (IRSA): arn:aws:iam::1:role/upload"}
    d = diagnose(_alert("HighErrorRate", namespace="media", service="upload-api"), _identity_case(aws, role), NOW)
    assert d is None or d.mode != "workload-identity-missing"


def test_a_refused_pull_names_the_serviceaccount_that_lacks_its_namesakes_pull_secret() -> None:
    pulling = {"name": "checkout", "ready": False, "restarts": 0, "image": "registry.example.com/shop/checkout:1.6.2",
               "state": {"state": "waiting", "reason": "ImagePullBackOff"}}
    pod = _pod("shop-staging", "checkout-5d8f-x2", "checkout-1", [pulling], service_account="default")
    pod.data["events"] = [{"reason": "Failed", "message": "Failed to pull image: pull access denied, repository "
                                                          "does not exist or may require authorization"}]
    listed = _result("k8s_list", kind="ServiceAccount", namespace=None, items=[
        {"namespace": "shop", "name": "default", "image_pull_secrets": ["regcred"]},
        {"namespace": "shop-staging", "name": "default", "image_pull_secrets": None}])
    assert identity.reads([pod]) == [("k8s_list", {"kind": "ServiceAccount", "namespace": "shop-staging"}),
                                     ("k8s_list", {"kind": "ServiceAccount"})]
    d = diagnose(_alert("KubeContainerWaiting", namespace="shop-staging", service=""), [pod, listed], NOW)
    assert d and d.mode == "imagepull-secret-missing" and d.about == "ServiceAccount shop-staging/default"
    assert d.summary.startswith("no imagePullSecrets, while ServiceAccount shop/default has regcred")
    # a real cluster's list is cut at its row limit (accounts with pull secrets first): the pod's own account is
    # then known from its namespace's list
    cut = _result("k8s_list", kind="ServiceAccount", namespace=None, items=[
        {"namespace": "shop", "name": "default", "image_pull_secrets": ["regcred"]}])
    own = _result("k8s_list", kind="ServiceAccount", namespace="shop-staging", items=[
        {"name": "default", "image_pull_secrets": None}])
    d = diagnose(_alert("KubeContainerWaiting", namespace="shop-staging", service=""), [pod, own, cut], NOW)
    assert d and d.mode == "imagepull-secret-missing" and d.about == "ServiceAccount shop-staging/default"


def _oom_pod() -> ToolResult:
    c = {"name": "ledger", "ready": False, "restarts": 4, "limits": {"memory": "256Mi"}, "requests": {},
         "state": {"state": "waiting", "reason": "CrashLoopBackOff", "message": "back-off 1m20s"},
         "last_state": {"state": "terminated", "reason": "OOMKilled", "exit_code": 137}}
    return _pod("pay", "ledger-2-k2x4q", "ledger-2", [c])


def _ledger(memory: str, env: str = "text", image: str = "pay/ledger:3.8.1") -> dict[str, Any]:
    return {"name": "ledger", "image": image, "env": [{"name": "LOG_FORMAT", "value": env}],
            "resources": {"limits": {"memory": memory}, "requests": {"memory": memory}}}


def test_a_memory_limit_lowered_hours_before_the_peak_is_rolled_back_and_the_change_is_said() -> None:
    d = diagnose(_alert("KubePodCrashLooping", namespace="pay", service="ledger"), [_oom_pod(), _deployment(
        "ledger", "pay", (timedelta(days=12), [_ledger("512Mi")]),
        (timedelta(hours=5), [_ledger("256Mi", image="pay/ledger:3.8.2")]))], NOW)
    assert d and d.mode == "oomkilled" and d.rollback == {"namespace": "pay", "deployment": "ledger"}
    assert d.rollback_note and "revision 1 (pay/ledger:3.8.1)" in d.rollback_note
    assert "the release 5h before the alert (revision 2, pay/ledger:3.8.2) made the change the failure follows " \
        "from: container ledger: memory limit lowered 512Mi → 256Mi" in d.rollback_note
    assert d.advice and "memory limit lowered 512Mi → 256Mi" in d.advice, "the card says what the release did"


def test_a_release_long_ago_that_changed_nothing_the_failure_involves_is_not_proposed_and_says_why() -> None:
    d = diagnose(_alert("KubePodCrashLooping", namespace="pay", service="ledger"), [_oom_pod(), _deployment(
        "ledger", "pay", (timedelta(days=12), [_ledger("256Mi")]), (timedelta(hours=5), [_ledger("256Mi", "json")]))],
                 NOW)
    assert d and d.mode == "oomkilled" and d.rollback is None
    assert d.advice and "raise container ledger's memory limit (now 256Mi)" in d.advice
    assert "no rollback: the release 5h before the alert (revision 2, pay/ledger:3.8.1) changed nothing the " \
        "failure involves (env LOG_FORMAT changed)" in d.advice


def test_a_release_that_moved_the_pods_to_a_serviceaccount_without_a_role_is_rolled_back_by_that_change() -> None:
    aws = "botocore.exceptions.NoCredentialsError: Unable to locate credentials"
    results = _identity_case(aws, None)
    results[0].data["controlled_by"] = ["ReplicaSet/upload-api-2", "Deployment/upload-api"]
    main = {"name": "upload-api", "image": "media/upload-api:1.12.0"}
    with_role = {"labels": {"app": "upload-api"}, "spec": {"containers": [main], "service_account_name": "uploads"}}
    without = {"labels": {"app": "upload-api"}, "spec": {"containers": [main], "service_account_name": "upload-api"}}
    rows = [Revision(1, "upload-api-1", main["image"], with_role, NOW - timedelta(days=9), 0),
            Revision(2, "upload-api-2", main["image"], without, NOW - timedelta(hours=7), 2, 2)]
    results.append(_result("k8s_describe", kind="Deployment", namespace="media", name="upload-api", conditions=[],
                           revisions=[], rollback=plan("media/upload-api", rows[-1], rows).data()))
    d = diagnose(_alert("HighErrorRate", namespace="media", service="upload-api"), results, NOW)
    assert d and d.mode == "workload-identity-missing" and d.rollback == {"namespace": "media",
                                                                          "deployment": "upload-api"}
    assert d.advice and "follows from: serviceAccountName uploads → upload-api" in d.advice


def test_the_older_wording_of_the_hpa_message_names_the_container_too() -> None:
    hpa = _hpa()
    hpa.data["events"] = []
    hpa.data["conditions"][1]["message"] = ("the HPA was unable to compute the replica count: missing request for cpu "
                                            "on container otel-collector in pod web/storefront-6d8c-4xk2p")
    pod = _pod("web", "storefront-6d8c-4xk2p", "storefront-2",
               [_running("storefront", {"cpu": "500m"}), _running("otel-collector", {})])
    assert ("k8s_describe", {"kind": "Pod", "namespace": "web", "name": "storefront-6d8c-4xk2p"}) in \
        autoscaling.reads([hpa])
    d = diagnose(_alert(), [hpa, pod], NOW)
    assert d and d.mode == "hpa-missing-request" and "container otel-collector" in d.summary
    assert "Pod web/storefront-6d8c-4xk2p container otel-collector: requests none" in d.quotes


def test_a_pod_never_ready_behind_a_rollout_past_its_deadline_is_the_rollouts_failure() -> None:
    """Every pod of the new revision fails its readiness probe, none restarts: the rollout is what failed."""
    unready = {"name": "orders", "ready": False, "restarts": 0, "state": {"state": "running"}, "requests": {}}
    pod = _pod("orders", "orders-2-p9x", "orders-2", [unready])
    pod.data["events"] = [{"reason": "Unhealthy", "message": "Readiness probe failed: HTTP probe failed with "
                                                              "statuscode: 503"}]
    deployment = _deployment("orders", "orders", (timedelta(days=9), [{"name": "orders", "image": "orders:5.3"}]),
                             (timedelta(minutes=28), [{"name": "orders", "image": "orders:5.4"}]), pods=(0, 3))
    deployment.data["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                      "message": 'ReplicaSet "orders-2" has timed out progressing.'}]
    d = diagnose(_alert("KubeDeploymentRolloutStuck", namespace="orders", service="", deployment="orders"),
                 [pod, deployment], NOW)
    assert d and d.mode == "failed-rollout" and d.about == "Deployment orders/orders"
    assert d.summary.endswith("Readiness probe failed: HTTP probe failed with statuscode: 503")
