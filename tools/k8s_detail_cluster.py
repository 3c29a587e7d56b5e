"""Cluster and networking objects described: a node's conditions, capacity, what is placed on it and its taints;
a claim's binding to its volume and class; what a NetworkPolicy allows; ConfigMaps, and Secrets by key name only
(never a value). Services and Endpoints: tools/k8s_detail_service.py."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from kubernetes.client.exceptions import ApiException

from tools.context import ToolContext
from tools.k8s_api import call, iso, selector_of, selects
from tools.k8s_quantity import quantity
from tools.k8s_rows import PRESSURE, node_status, quota_usage

CONFIG_VALUE_CHARS = 400
NODE_RESOURCES = ("cpu", "memory", "nvidia.com/gpu", "ephemeral-storage")


def _requests(pod: Any) -> Counter:
    total: Counter = Counter()
    for c in pod.spec.containers:
        res = c.resources
        asked = {**((res.limits or {}) if res else {}), **((res.requests or {}) if res else {})}
        total.update({k: quantity(v) for k, v in asked.items()})
    return total


def _amount(resource: str, value: Decimal) -> str:
    if resource == "cpu":
        return f"{int(value * 1000)}m" if value % 1 else str(int(value))
    if resource in ("memory", "ephemeral-storage"):
        return f"{int(value / 2**20)}Mi"
    return str(int(value)) if value == int(value) else str(value)


def _fraction(used: Decimal, of: Decimal) -> str:
    return f"{int(used * 100 / of)}%" if of else "n/a"


def describe_node(ctx: ToolContext, n: Any, now: datetime) -> dict[str, Any]:
    name = n.metadata.name
    every = call(ctx, f"the pods on node {name}", "core", "list_pod_for_all_namespaces",
                 field_selector=f"spec.nodeName={name}").items
    pods = [p for p in every if p.status.phase not in ("Succeeded", "Failed")]
    allocatable = n.status.allocatable or {}
    used: Counter = Counter()
    for p in pods:
        used.update(_requests(p))
    max_pods = int(allocatable.get("pods", "110"))
    requested = {r: {"requested": _amount(r, Decimal(used[r])), "allocatable": allocatable[r],
                     "percent": _fraction(used[r], quantity(allocatable[r]))}
                 for r in NODE_RESOURCES if r in allocatable}
    return {
        "status": node_status(n), "unschedulable": bool(n.spec.unschedulable),
        "conditions": [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message,
                        "since": iso(c.last_transition_time)} for c in n.status.conditions or []],
        "pressure": [c.type for c in n.status.conditions or [] if c.type in PRESSURE and c.status == "True"],
        "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in n.spec.taints or []],
        "labels": n.metadata.labels or {},
        "capacity": dict(n.status.capacity or {}), "allocatable": dict(allocatable),
        "pods": {"running": len(pods), "max": max_pods, "at_limit": len(pods) >= max_pods},
        "requests": requested,
        "kubelet": n.status.node_info.kubelet_version if n.status.node_info else None,
        "pods_on_node": sorted(f"{p.metadata.namespace}/{p.metadata.name}" for p in pods)[:30],
        "failed_pods": sorted(f"{p.metadata.namespace}/{p.metadata.name}" for p in every
                              if p.status.phase == "Failed")[:10],
    }


def _storage_class(ctx: ToolContext, name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    try:
        sc = call(ctx, f"storage class {name}", "storage", "read_storage_class", name, passthrough=(404,))
    except ApiException:
        return {"name": name, "exists": False}
    return {"name": name, "exists": True, "provisioner": sc.provisioner,
            "binding_mode": sc.volume_binding_mode or "Immediate", "reclaim_policy": sc.reclaim_policy}


def node_affinity(pv: Any) -> list[str]:
    """A volume's required node affinity as `kubectl describe pv` prints its terms (OR'ed; each term's
    expressions AND'ed): 'topology.kubernetes.io/zone in [europe-west1-b]'."""
    required = pv.spec.node_affinity.required if pv.spec.node_affinity else None
    terms = []
    for t in (required.node_selector_terms if required else None) or []:
        exprs = [f"{e.key} {e.operator.lower()} [{', '.join(e.values or [])}]" if e.values else
                 f"{e.key} {e.operator.lower()}" for e in [*(t.match_expressions or []), *(t.match_fields or [])]]
        terms.append(", ".join(exprs))
    return terms


def describe_claim(ctx: ToolContext, pvc: Any, now: datetime) -> dict[str, Any]:
    ns, name = pvc.metadata.namespace, pvc.metadata.name
    volume = None
    if pvc.spec.volume_name:
        try:
            pv = call(ctx, f"volume {pvc.spec.volume_name}", "core", "read_persistent_volume", pvc.spec.volume_name,
                      passthrough=(404,))
            volume = {"name": pv.metadata.name, "status": pv.status.phase,
                      "capacity": (pv.spec.capacity or {}).get("storage"),
                      "reclaim_policy": pv.spec.persistent_volume_reclaim_policy,
                      **({"node_affinity": terms} if (terms := node_affinity(pv)) else {})}
        except ApiException:
            volume = {"name": pvc.spec.volume_name, "exists": False}
    pods = call(ctx, f"the pods in {ns}", "core", "list_namespaced_pod", ns).items
    users = sorted(p.metadata.name for p in pods for v in p.spec.volumes or []
                   if v.persistent_volume_claim and v.persistent_volume_claim.claim_name == name)
    return {
        "status": pvc.status.phase if pvc.status else None,
        "requested": ((pvc.spec.resources.requests or {}) if pvc.spec.resources else {}).get("storage"),
        "capacity": (pvc.status.capacity or {}).get("storage") if pvc.status else None,
        "access_modes": pvc.spec.access_modes or [], "volume": volume,
        "storage_class": _storage_class(ctx, pvc.spec.storage_class_name), "used_by": users,
    }


def describe_volume(ctx: ToolContext, pv: Any, now: datetime) -> dict[str, Any]:
    ref = pv.spec.claim_ref
    return {"status": pv.status.phase, "claim": f"{ref.namespace}/{ref.name}" if ref else None,
            "capacity": (pv.spec.capacity or {}).get("storage"), "access_modes": pv.spec.access_modes or [],
            "reclaim_policy": pv.spec.persistent_volume_reclaim_policy,
            "node_affinity": node_affinity(pv) or None,
            "storage_class": _storage_class(ctx, pv.spec.storage_class_name)}


def describe_storage_class(ctx: ToolContext, sc: Any, now: datetime) -> dict[str, Any]:
    return {"provisioner": sc.provisioner, "binding_mode": sc.volume_binding_mode or "Immediate",
            "reclaim_policy": sc.reclaim_policy, "allow_expansion": bool(sc.allow_volume_expansion),
            "default": (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true",
            "parameters": sc.parameters or {}}


def _peer(peer: Any) -> str:
    if peer.ip_block:
        block = peer.ip_block
        return f"ipBlock {block.cidr}" + (f" except {', '.join(block._except)}" if block._except else "")
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaces [{selector_of(peer.namespace_selector) or 'all'}]")
    if peer.pod_selector is not None:
        parts.append(f"pods [{selector_of(peer.pod_selector) or 'all'}]")
    return " ".join(parts) or "anywhere"


def _rule(peers: list[Any] | None, ports: list[Any] | None) -> dict[str, Any]:
    return {"peers": [_peer(p) for p in peers or []] or ["anywhere"],
            "ports": [f"{p.port or 'all'}/{p.protocol or 'TCP'}" for p in ports or []] or ["all ports"]}


def _allows_dns(rules: list[Any]) -> bool:
    for r in rules:
        ports = r.ports or []
        if not ports or any(str(p.port) in ("53", "dns", "dns-tcp", "None") for p in ports):
            return True
    return False


def describe_network_policy(ctx: ToolContext, np: Any, now: datetime) -> dict[str, Any]:
    ns, spec = np.metadata.namespace, np.spec
    types = spec.policy_types or ["Ingress"]
    pods = call(ctx, f"the pods in {ns}", "core", "list_namespaced_pod", ns).items
    selected = sorted(p.metadata.name for p in pods if selects(spec.pod_selector, p.metadata.labels))
    verdict = []
    if "Ingress" in types:
        verdict.append("denies all ingress to the selected pods" if not spec.ingress
                       else f"allows ingress only by {len(spec.ingress)} rule(s)")
    if "Egress" in types:
        if not spec.egress:
            verdict.append("denies all egress from the selected pods, DNS (port 53) included")
        else:
            verdict.append(f"allows egress only by {len(spec.egress)} rule(s); DNS (port 53) "
                           + ("allowed" if _allows_dns(spec.egress) else "NOT allowed"))
    return {"pod_selector": selector_of(spec.pod_selector) or "(all pods in the namespace)",
            "policy_types": types, "selected_pods": selected,
            "ingress": [_rule(r._from, r.ports) for r in spec.ingress or []],
            "egress": [_rule(r.to, r.ports) for r in spec.egress or []], "verdict": "; ".join(verdict)}


def describe_config_map(ctx: ToolContext, cm: Any, now: datetime) -> dict[str, Any]:
    data = cm.data or {}
    return {"keys": sorted([*data, *(cm.binary_data or {})]),
            "data": {k: v if len(v) <= CONFIG_VALUE_CHARS else v[:CONFIG_VALUE_CHARS] + "…" for k, v in data.items()}}


def describe_secret(ctx: ToolContext, secret: Any, now: datetime) -> dict[str, Any]:
    data = secret.data or {}
    return {"type": secret.type, "keys": sorted(data),
            "sizes": {k: f"{len(v) * 3 // 4} bytes" for k, v in data.items()},  # base64 length, never the value
            "note": "values are never shown"}


def describe_resource_quota(ctx: ToolContext, q: Any, now: datetime) -> dict[str, Any]:
    usage = quota_usage(q)
    spent = [u["resource"] for u in usage if u["spent"]]
    used = ", ".join(f"{u['resource']} {u['used']}/{u['hard']}" for u in usage)
    return {"status": f"used/hard: {used}" + (f"; spent: {', '.join(spent)}" if spent else ""),
            "resources": usage, "spent": spent, "scopes": q.spec.scopes or None}


def describe_limit_range(ctx: ToolContext, lr: Any, now: datetime) -> dict[str, Any]:
    return {"limits": [{"type": i.type, "resource": r, "min": (i.min or {}).get(r), "max": (i.max or {}).get(r),
                        "default_request": (i.default_request or {}).get(r), "default_limit": (i.default or {}).get(r)}
                       for i in lr.spec.limits or []
                       for r in sorted({*(i.max or {}), *(i.min or {}), *(i.default or {}),
                                        *(i.default_request or {})})]}


def describe_namespace(ctx: ToolContext, ns: Any, now: datetime) -> dict[str, Any]:
    return {"status": ns.status.phase, "labels": ns.metadata.labels or {}}


def describe_event(ctx: ToolContext, e: Any, now: datetime) -> dict[str, Any]:
    o = e.involved_object
    return {"type": e.type, "reason": e.reason, "object": f"{o.kind}/{o.name}", "message": e.message,
            "count": e.count or 1, "first_seen": iso(e.first_timestamp), "last_seen": iso(e.last_timestamp),
            "source": (e.source.component if e.source else None) or e.reporting_component}
