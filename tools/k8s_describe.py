"""Describing one Kubernetes object of any common kind, with the detail `kubectl describe` gives for it and
the events about exactly that object, warnings first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from tools import k8s_detail_cluster as cluster
from tools import k8s_detail_service as service
from tools import k8s_detail_workloads as workloads
from tools.base import ClusterArgs, ToolResult, ok, tool
from tools.context import ToolContext
from tools.k8s_api import Namespace, ObjectName, object_events, read_kind, require_namespace
from tools.k8s_detail_pod import describe_pod
from tools.k8s_events import event_row, sort_events
from tools.k8s_identity import describe_service_account
from tools.k8s_kinds import KINDS, Kind
from tools.k8s_secret_values import mask_secret_values

MAX_EVENTS = 10
DETAIL: dict[str, Callable[[ToolContext, Any, datetime], dict[str, Any]]] = {
    "Pod": describe_pod, "Deployment": workloads.describe_deployment,
    "ReplicaSet": workloads.describe_replica_set, "StatefulSet": workloads.describe_stateful_set,
    "DaemonSet": workloads.describe_daemon_set, "Job": workloads.describe_job, "CronJob": workloads.describe_cron_job,
    "HorizontalPodAutoscaler": workloads.describe_hpa, "Node": cluster.describe_node,
    "PersistentVolumeClaim": cluster.describe_claim, "PersistentVolume": cluster.describe_volume,
    "StorageClass": cluster.describe_storage_class, "Service": service.describe_service,
    "Endpoints": service.describe_endpoints, "NetworkPolicy": cluster.describe_network_policy,
    "ConfigMap": cluster.describe_config_map, "Secret": cluster.describe_secret,
    "Namespace": cluster.describe_namespace, "Event": cluster.describe_event,
    "ResourceQuota": cluster.describe_resource_quota, "LimitRange": cluster.describe_limit_range,
    "ServiceAccount": describe_service_account,
}


class K8sDescribeArgs(ClusterArgs):
    kind: Kind = Field(description="the object's kind")
    name: ObjectName = Field(description="its exact name (a pod's full name, such as <deployment>-<hash>-<id>)")
    namespace: Namespace | None = Field(None, description="its namespace (not for Node, PersistentVolume, "
                                        "StorageClass, Namespace)")

    @model_validator(mode="after")
    def _scoped(self) -> K8sDescribeArgs:
        if KINDS[self.kind].namespaced and not self.namespace:
            raise ValueError(f"{self.kind} is namespaced: give namespace")
        return self


@tool("kubernetes")
def k8s_describe(ctx: ToolContext, args: K8sDescribeArgs) -> ToolResult:
    """Describe one object and its events, as kubectl describe does. Pod: containers' state, last exit,
    resources, owners, referenced ConfigMaps/Secrets/claims, Services, NetworkPolicies. Deployment: rollout,
    revisions. Job/CronJob: pod counts, failure, schedule, last success. Node: conditions, taints, pods,
    allocatable. Claim/PersistentVolume: volume, class, zone. Service: endpoints, pods its selector matches.
    NetworkPolicy: what it allows. ResourceQuota/LimitRange: used/hard, bounds. ServiceAccount: identity
    annotations, pull secrets. Secret: key names only."""
    info = KINDS[args.kind]
    ns = args.namespace if info.namespaced else ""
    if ns:
        require_namespace(ctx, ns)
    obj = read_kind(ctx, args.kind, args.name, ns)
    now = ctx.now()
    data: dict[str, Any] = {"kind": args.kind, "name": args.name, **({"namespace": ns} if ns else {}),
                            **DETAIL[args.kind](ctx, obj, now)}
    if args.kind != "Event":
        events = sort_events(object_events(ctx, args.kind, args.name, ns))
        data["events"] = [event_row(e, now) for e in events[:MAX_EVENTS]]
    return ok(k8s_describe.name, k8s_describe.summary(args), mask_secret_values(ctx, ns, data))


TOOLS = [k8s_describe]
