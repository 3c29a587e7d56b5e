"""From an alert's labels to the object it is about: real kube-prometheus label sets, exporters skipped."""

from __future__ import annotations

import pytest

from bot.intake.target import from_labels, is_exporter, workload_name

KSM = {"job": "kube-state-metrics", "service": "robusta-kube-state-metrics", "instance": "10.244.0.7:8080",
       "endpoint": "http", "namespace": "shop"}


@pytest.mark.parametrize(("labels", "kind", "name", "via"), [
    ({**KSM, "alertname": "KubePodCrashLooping", "pod": "web-5d8f7c9b4-abcde", "container": "log-shipper",
      "reason": "CrashLoopBackOff"}, "Pod", "web-5d8f7c9b4-abcde", "pod"),
    ({**KSM, "alertname": "KubeJobFailed", "job_name": "db-migrate", "condition": "true"}, "Job", "db-migrate",
     "job_name"),
    ({**KSM, "alertname": "KubeDeploymentReplicasMismatch", "deployment": "checkout"}, "Deployment", "checkout",
     "deployment"),
    ({**KSM, "alertname": "KubeStatefulSetReplicasMismatch", "statefulset": "postgres"}, "StatefulSet", "postgres",
     "statefulset"),
    ({**KSM, "alertname": "KubePersistentVolumeFillingUp", "persistentvolumeclaim": "data-postgres-0"},
     "PersistentVolumeClaim", "data-postgres-0", "persistentvolumeclaim"),
    ({**KSM, "alertname": "KubeNodeNotReady", "node": "node-b", "condition": "Ready"}, "Node", "node-b", "node"),
    ({"alertname": "NodeFilesystemSpaceFillingUp", "job": "node-exporter", "instance": "node-a:9100",
      "service": "prometheus-node-exporter"}, "Node", "node-a", "instance"),
    ({"alertname": "HighErrorRate", "namespace": "shop", "service": "checkout"}, "Deployment", "checkout",
     "service"),
    ({**KSM, "alertname": "KubeQuotaAlmostFull"}, None, None, "namespace"),
    ({"sentry_issue": "4711", "namespace": "shop", "server_name": "checkout-7d9f5b6c4-x2x9q", "release": "1.6.0",
      "environment": "production", "level": "error"}, "Pod", "checkout-7d9f5b6c4-x2x9q", "server_name"),
    ({"sentry_issue": "4711", "server_name": "ip-10-0-1-7.ec2.internal", "service": "checkout"}, "Deployment",
     "checkout", "service"),
    ({"sentry_issue": "4712", "namespace": "identity", "release": "accounts-web@2.8.0", "server_name": "web01.corp"},
     "Deployment", "accounts-web", "release"),
    ({**KSM, "alertname": "KubeHpaMaxedOut", "namespace": "search", "horizontalpodautoscaler": "query-api"},
     "HorizontalPodAutoscaler", "query-api", "horizontalpodautoscaler"),
])
def test_labels_name_the_object_in_the_trusted_order(labels: dict, kind: str | None, name: str | None,
                                                     via: str) -> None:
    t = from_labels(labels)
    assert (t.kind, t.name, t.via) == (kind, name, via)
    assert t.namespace == labels.get("namespace")


def test_an_exporters_own_labels_name_no_workload() -> None:
    assert is_exporter("robusta-kube-state-metrics") and is_exporter("prometheus-node-exporter")
    assert is_exporter("kubelet") and not is_exporter("checkout")
    assert workload_name({**KSM, "pod": "x"}) is None
    assert workload_name({**KSM, "job_name": "db-migrate"}) == "db-migrate"
    assert from_labels({**KSM, "pod": "p", "container": "c"}).container == "c"
