"""A Service described as a person debugging "connection refused" would check it: its endpoints by readiness,
how many pods its selector matches (and, when none, the pods whose labels come closest, by their workload),
and a target port that none of the selected pods declares."""

from __future__ import annotations

from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from kubernetes.client.exceptions import ApiException

from tools.context import ToolContext
from tools.k8s_api import call

CLOSEST = 2  # label sets shown when the selector matches no pod


def _endpoints(ctx: ToolContext, ns: str, name: str) -> dict[str, Any]:
    try:
        ep = call(ctx, f"endpoints {ns}/{name}", "core", "read_namespaced_endpoints", name, ns, passthrough=(404,))
    except ApiException:
        return {"ready": [], "not_ready": [], "note": "no Endpoints object"}

    def who(a: Any) -> str:
        return f"{a.target_ref.name} ({a.ip})" if a.target_ref else a.ip

    subsets = ep.subsets or []
    return {"ready": [who(a) for s in subsets for a in s.addresses or []],
            "not_ready": [who(a) for s in subsets for a in s.not_ready_addresses or []],
            "ports": sorted({f"{p.port}/{p.protocol or 'TCP'}" for s in subsets for p in s.ports or []})}


def workload_of(pod: Any) -> str:
    """The pod's workload as Kind/name: a ReplicaSet made from a pod template is its Deployment's."""
    ref = next((r for r in pod.metadata.owner_references or [] if r.controller), None)
    if ref is None:
        return f"Pod/{pod.metadata.name}"
    suffix = f"-{(pod.metadata.labels or {}).get('pod-template-hash', '')}"
    if ref.kind == "ReplicaSet" and suffix != "-" and ref.name.endswith(suffix):
        return f"Deployment/{ref.name.removesuffix(suffix)}"
    return f"{ref.kind}/{ref.name}"


def _likeness(selector: dict[str, str], labels: dict[str, str]) -> float:
    """How near a pod's labels come to the selector: per term, 1 for the same key and value, the values'
    likeness for the same key, a little for the value under another key."""
    score = 0.0
    for k, v in selector.items():
        if labels.get(k) == v:
            score += 1
        elif k in labels:
            score += SequenceMatcher(None, v, labels[k]).ratio()
        elif v in labels.values():
            score += 0.5
    return score / len(selector)


def closest(selector: dict[str, str], pods: list[Any]) -> list[dict[str, Any]]:
    """The workloads whose pods' labels come nearest to a selector that matches none, nearest first."""
    rows: dict[str, dict[str, Any]] = {}
    for p in pods:
        labels = p.metadata.labels or {}
        near = _likeness(selector, labels)
        if near < 0.5:
            continue
        shown = {k: v for k, v in labels.items() if k in selector or v in selector.values()}
        row = rows.setdefault(workload_of(p), {"workload": workload_of(p), "labels": shown, "pods": 0,
                                               "likeness": round(near, 2)})
        row["pods"] += 1
    return sorted(rows.values(), key=lambda r: -r["likeness"])[:CLOSEST]


def _declared(pods: list[Any]) -> tuple[set[str], set[str]]:
    ports = [p for pod in pods for c in pod.spec.containers for p in c.ports or []]
    return {str(p.container_port) for p in ports}, {p.name for p in ports if p.name}


def port_gaps(svc: Any, pods: list[Any]) -> list[str]:
    """Each target port no selected pod declares, said so, when the pods declare ports at all (a port a
    container does not declare may still be listened on; one the pods declare elsewhere says more)."""
    numbers, names = _declared(pods)
    if not numbers:
        return []
    out = []
    for p in svc.spec.ports or []:
        target = str(p.target_port if p.target_port is not None else p.port)
        if target not in numbers and target not in names:
            out.append(f"port {p.port} targets {target}, which no selected pod declares "
                       f"(they declare {', '.join(sorted(numbers))})")
    return out


def describe_service(ctx: ToolContext, svc: Any, now: datetime) -> dict[str, Any]:
    ns, name, selector = svc.metadata.namespace, svc.metadata.name, svc.spec.selector or {}
    endpoints = _endpoints(ctx, ns, name)
    data: dict[str, Any] = {
        "type": svc.spec.type, "cluster_ip": svc.spec.cluster_ip, "selector": selector or None,
        "ports": [{"name": p.name, "port": p.port, "target_port": str(p.target_port), "protocol": p.protocol}
                  for p in svc.spec.ports or []], "endpoints": endpoints}
    if not selector:
        return data
    pods = call(ctx, f"the pods in {ns}", "core", "list_namespaced_pod", ns).items
    mine = [p for p in pods if all((p.metadata.labels or {}).get(k) == v for k, v in selector.items())]
    terms = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    data["pods_matched"] = len(mine)
    if not mine:
        endpoints["note"] = f"the selector {terms} matches no pod in {ns}"
        data["closest"] = closest(selector, pods)
    elif gaps := port_gaps(svc, mine):
        data["port_gaps"] = gaps
    return data


def describe_endpoints(ctx: ToolContext, ep: Any, now: datetime) -> dict[str, Any]:
    return _endpoints(ctx, ep.metadata.namespace, ep.metadata.name)
