"""The Kubernetes kinds the read tools know: which typed client reads each, and whether it is namespaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal[
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Node", "Service",
    "Endpoints", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "NetworkPolicy", "ConfigMap",
    "Secret", "HorizontalPodAutoscaler", "Namespace", "Event", "ResourceQuota", "LimitRange", "ServiceAccount",
]
ApiGroup = Literal["core", "apps", "batch", "networking", "storage", "autoscaling"]
API_CLASSES: dict[str, str] = {"core": "CoreV1Api", "apps": "AppsV1Api", "batch": "BatchV1Api",
                               "networking": "NetworkingV1Api", "storage": "StorageV1Api",
                               "autoscaling": "AutoscalingV2Api"}


@dataclass(frozen=True)
class KindInfo:
    kind: str
    api: ApiGroup
    snake: str  # the client's method stem: list_namespaced_<snake>, read_namespaced_<snake>
    namespaced: bool

    @property
    def list_method(self) -> str:
        return f"list_namespaced_{self.snake}" if self.namespaced else f"list_{self.snake}"

    @property
    def list_all_method(self) -> str:
        """Every namespace's objects of a namespaced kind (kubectl get -A)."""
        return f"list_{self.snake}_for_all_namespaces"

    @property
    def read_method(self) -> str:
        return f"read_namespaced_{self.snake}" if self.namespaced else f"read_{self.snake}"

    def read_args(self, name: str, ns: str) -> tuple[Any, ...]:
        return (name, ns) if self.namespaced else (name,)


KINDS: dict[str, KindInfo] = {k.kind: k for k in [
    KindInfo("Pod", "core", "pod", True), KindInfo("Service", "core", "service", True),
    KindInfo("Endpoints", "core", "endpoints", True), KindInfo("ConfigMap", "core", "config_map", True),
    KindInfo("Secret", "core", "secret", True), KindInfo("Event", "core", "event", True),
    KindInfo("PersistentVolumeClaim", "core", "persistent_volume_claim", True),
    KindInfo("PersistentVolume", "core", "persistent_volume", False), KindInfo("Node", "core", "node", False),
    KindInfo("Namespace", "core", "namespace", False),
    KindInfo("ResourceQuota", "core", "resource_quota", True), KindInfo("LimitRange", "core", "limit_range", True),
    KindInfo("Deployment", "apps", "deployment", True), KindInfo("ReplicaSet", "apps", "replica_set", True),
    KindInfo("StatefulSet", "apps", "stateful_set", True), KindInfo("DaemonSet", "apps", "daemon_set", True),
    KindInfo("Job", "batch", "job", True), KindInfo("CronJob", "batch", "cron_job", True),
    KindInfo("NetworkPolicy", "networking", "network_policy", True),
    KindInfo("StorageClass", "storage", "storage_class", False),
    KindInfo("HorizontalPodAutoscaler", "autoscaling", "horizontal_pod_autoscaler", True),
    KindInfo("ServiceAccount", "core", "service_account", True),
]}


def plural(kind: str) -> str:
    """Jobs, StorageClasses, NetworkPolicies, Endpoints."""
    if kind.endswith("ss"):
        return f"{kind}es"
    if kind.endswith("s"):
        return kind
    return f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
