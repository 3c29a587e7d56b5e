"""Nodes as the kubelet reports them: labels, taints, capacity and allocatable, conditions, addresses."""

from __future__ import annotations

from typing import Any

from sandbox.k8s_objects import normalize, short_hash, ts, uid
from sandbox.scenario_cluster import Node, NodeCondition

DEFAULT_NODES = [Node(name=f"sandbox-node-{i}") for i in (1, 2, 3)]
_HEALTHY = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}


def _conditions(given: list[NodeCondition], now: float) -> list[dict[str, Any]]:
    by_type = {c.type: c for c in given}
    out = []
    for type_ in [*_HEALTHY, *(t for t in by_type if t not in _HEALTHY)]:
        status, reason, message = _HEALTHY.get(type_, ("False", None, None))
        if type_ in by_type:
            c = by_type[type_]
            status, reason, message = c.status, c.reason or reason, c.message or message
        out.append(normalize({"type": type_, "status": status, "reason": reason, "message": message,
                              "lastHeartbeatTime": ts(now), "lastTransitionTime": ts(now - 3600)}))
    return out


def node(n: Node, index: int, created: float, now: float) -> dict[str, Any]:
    capacity = {k: str(v) for k, v in n.capacity.items()}
    allocatable = {k: str(v) for k, v in (n.allocatable or n.capacity).items()}
    labels = {"kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              **n.labels}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": n.name, "uid": uid("node", n.name), "creationTimestamp": ts(created),
                     "labels": labels},
        "spec": normalize({"podCIDR": f"10.244.{index}.0/24", "unschedulable": n.unschedulable or None,
                           "taints": [t.model_dump(exclude_none=True) for t in n.taints]}),
        "status": {
            "capacity": capacity, "allocatable": allocatable, "conditions": _conditions(n.conditions, now),
            "addresses": [{"type": "InternalIP", "address": host_ip(index)}, {"type": "Hostname", "address": n.name}],
            "nodeInfo": {"architecture": "amd64", "bootID": uid("boot", n.name), "containerRuntimeVersion":
                         "containerd://1.7.22", "kernelVersion": "6.1.0-28-amd64", "kubeProxyVersion": "v1.31.0",
                         "kubeletVersion": "v1.31.0", "machineID": short_hash(n.name, 32),
                         "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "systemUUID": uid("system", n.name)},
        },
    }


def host_ip(index: int) -> str:
    return f"10.0.0.{index + 11}"
