"""One pod described: its containers (init and sidecar too) with their states and resources, its owner chain,
the ConfigMaps, Secrets and claims it references (and whether they exist), and what selects it (Services,
NetworkPolicies). Secret values and environment values never leave this module: names and keys only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from tools.context import ToolContext
from tools.k8s_api import NOT_READABLE, age, call, iso, selects
from tools.k8s_kinds import KINDS
from tools.k8s_pods import container, pod_status

OWNED_BY = {"ReplicaSet": "Deployment", "Job": "CronJob"}


def owner_chain(ctx: ToolContext, obj: Any, ns: str) -> list[str]:
    """Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet / DaemonSet, as kind/name."""
    chain, current = [], obj
    for _ in range(3):
        ref = next((r for r in current.metadata.owner_references or [] if r.controller), None)
        if ref is None:
            break
        chain.append(f"{ref.kind}/{ref.name}")
        if ref.kind not in OWNED_BY or ref.kind not in KINDS:
            break
        info = KINDS[ref.kind]
        try:
            current = call(ctx, f"{ref.kind} {ns}/{ref.name}", info.api, info.read_method, ref.name, ns,
                           passthrough=(404,))
        except ApiException:
            chain[-1] += " (gone)"
            break
    return chain


ROOT_CA = "kube-root-ca.crt"  # the cluster's CA, published in every namespace by the controller-manager


def _refs(pod: Any) -> list[tuple[str, str, str | None, str]]:
    """(kind, name, key or None, where) for every ConfigMap and Secret the pod spec names (not the cluster's CA
    in a projected ServiceAccount-token volume: the API access every pod gets, not the program's config)."""
    out = []
    for c in [*(pod.spec.init_containers or []), *pod.spec.containers]:
        for e in c.env or []:
            src = e.value_from
            if src and src.config_map_key_ref:
                out.append(("ConfigMap", src.config_map_key_ref.name, src.config_map_key_ref.key, f"env {e.name}"))
            if src and src.secret_key_ref:
                out.append(("Secret", src.secret_key_ref.name, src.secret_key_ref.key, f"env {e.name}"))
        for s in c.env_from or []:
            if s.config_map_ref:
                out.append(("ConfigMap", s.config_map_ref.name, None, f"envFrom of {c.name}"))
            if s.secret_ref:
                out.append(("Secret", s.secret_ref.name, None, f"envFrom of {c.name}"))
    for v in pod.spec.volumes or []:
        if v.config_map:
            out.append(("ConfigMap", v.config_map.name, None, f"volume {v.name}"))
        if v.secret:
            out.append(("Secret", v.secret.secret_name, None, f"volume {v.name}"))
        sources = (v.projected.sources if v.projected else None) or []
        api_access = any(p.service_account_token for p in sources)  # the ServiceAccount admission plugin's
        for p in sources:
            if p.config_map and not (api_access and p.config_map.name == ROOT_CA):
                out.append(("ConfigMap", p.config_map.name, None, f"volume {v.name}"))
            if p.secret:
                out.append(("Secret", p.secret.name, None, f"volume {v.name}"))
    return out


def config_refs(ctx: ToolContext, pod: Any, ns: str) -> list[dict[str, Any]]:
    """Each referenced ConfigMap/Secret key: does the object exist, does it hold the key (never the value). One
    opsbot's RBAC may not read (Secrets are opt-in) is said so: unknown, never "missing"."""
    keys: dict[tuple[str, str], set[str] | None] = {}
    unreadable: set[tuple[str, str]] = set()
    out = []
    for kind, name, key, where in _refs(pod):
        if (kind, name) not in keys:
            info = KINDS[kind]
            try:
                obj = call(ctx, f"{kind} {ns}/{name}", info.api, info.read_method, name, ns, passthrough=(404, 403))
                keys[(kind, name)] = {*(obj.data or {}), *((getattr(obj, "binary_data", None) or {}))}
            except ApiException as e:
                keys[(kind, name)] = None
                if e.status == 403:
                    unreadable.add((kind, name))
        held = keys[(kind, name)]
        row: dict[str, Any] = {"kind": kind, "name": name, "used_by": where}
        if (kind, name) in unreadable:
            row.update(exists=None, readable=False, note=NOT_READABLE)
        else:
            row["exists"] = held is not None
        if key is not None:
            row["key"] = key
            if (kind, name) not in unreadable:
                row["key_exists"] = held is not None and key in held
        out.append(row)
    return out


def claims(ctx: ToolContext, pod: Any, ns: str) -> list[dict[str, Any]]:
    out = []
    for v in pod.spec.volumes or []:
        if not v.persistent_volume_claim:
            continue
        name = v.persistent_volume_claim.claim_name
        try:
            pvc = call(ctx, f"claim {ns}/{name}", "core", "read_namespaced_persistent_volume_claim", name, ns,
                       passthrough=(404,))
        except ApiException:
            out.append({"claim": name, "exists": False})
            continue
        out.append({"claim": name, "exists": True, "status": pvc.status.phase if pvc.status else None,
                    "volume": pvc.spec.volume_name, "storage_class": pvc.spec.storage_class_name})
    return out


def selected_by(ctx: ToolContext, pod: Any, ns: str) -> dict[str, list[Any]]:
    labels = pod.metadata.labels or {}
    services = call(ctx, f"the services in {ns}", "core", "list_namespaced_service", ns).items
    policies = call(ctx, f"the network policies in {ns}", "networking", "list_namespaced_network_policy", ns).items
    return {
        "services": sorted(s.metadata.name for s in services
                           if s.spec.selector and all(labels.get(k) == v for k, v in s.spec.selector.items())),
        "network_policies": [{"name": p.metadata.name, "policy_types": p.spec.policy_types or []}
                             for p in policies if selects(p.spec.pod_selector, labels)],
    }


def describe_pod(ctx: ToolContext, p: Any, now: datetime) -> dict[str, Any]:
    ns = p.metadata.namespace
    statuses = {cs.name: cs for cs in [*(p.status.container_statuses or []), *(p.status.init_container_statuses or [])]}
    return {
        "status": pod_status(p), "phase": p.status.phase, "node": p.spec.node_name,
        **({"reason": p.status.reason} if p.status.reason else {}),
        **({"message": p.status.message} if p.status.message else {}),
        "created": iso(p.metadata.creation_timestamp), "age": age(p.metadata.creation_timestamp, now),
        "controlled_by": owner_chain(ctx, p, ns), "labels": p.metadata.labels or {}, "qos": p.status.qos_class,
        "service_account": p.spec.service_account_name or "default",
        **({"image_pull_secrets": [r.name for r in p.spec.image_pull_secrets]} if p.spec.image_pull_secrets else {}),
        "node_selector": p.spec.node_selector or None,
        "tolerations": [f"{t.key or '*'}{'=' + t.value if t.value else ''}:{t.effect or '*'}"
                        for t in p.spec.tolerations or []] or None,
        "conditions": [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
                       for c in p.status.conditions or []],
        "init_containers": [container(c, statuses.get(c.name), now, init=True) for c in p.spec.init_containers or []],
        "containers": [container(c, statuses.get(c.name), now) for c in p.spec.containers],
        "config_refs": config_refs(ctx, p, ns),
        "claims": claims(ctx, p, ns),
        **selected_by(ctx, p, ns),
    }
