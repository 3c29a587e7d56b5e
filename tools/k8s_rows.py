"""One row per object, for every kind the list tool reads: kubectl get's columns, and whether it is healthy.

Secrets are listed by key name only; their values never leave this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tools.k8s_api import age, selector_of
from tools.k8s_cron import overdue
from tools.k8s_quantity import quantity
from tools.k8s_events import event_row
from tools.k8s_identity import workload_identity
from tools.k8s_pods import pod_row

Row = dict[str, Any]
ZONE = "topology.kubernetes.io/zone"
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


def _base(obj: Any, now: datetime, healthy: bool = True, **columns: Any) -> Row:
    return {"name": obj.metadata.name, **columns, "age": age(obj.metadata.creation_timestamp, now),
            "healthy": healthy}


def _owner(obj: Any) -> str | None:
    return next((f"{r.kind}/{r.name}" for r in obj.metadata.owner_references or [] if r.controller), None)


def condition(obj: Any, type_: str) -> Any:
    return next((c for c in (obj.status.conditions if obj.status else None) or [] if c.type == type_), None)


def deployment_row(d: Any, now: datetime) -> Row:
    s, want = d.status, d.spec.replicas or 0
    ready = s.ready_replicas or 0
    return _base(d, now, ready >= want and (s.updated_replicas or 0) >= want, ready=f"{ready}/{want}",
                 up_to_date=s.updated_replicas or 0, available=s.available_replicas or 0,
                 images=[c.image for c in d.spec.template.spec.containers])


def replica_set_row(rs: Any, now: datetime) -> Row:
    want, ready = rs.spec.replicas or 0, rs.status.ready_replicas or 0
    return _base(rs, now, ready >= want, desired=want, current=rs.status.replicas or 0, ready=ready,
                 owner=_owner(rs))


def stateful_set_row(sts: Any, now: datetime) -> Row:
    want, ready = sts.spec.replicas or 0, sts.status.ready_replicas or 0
    return _base(sts, now, ready >= want, ready=f"{ready}/{want}")


def daemon_set_row(ds: Any, now: datetime) -> Row:
    s = ds.status
    return _base(ds, now, (s.number_ready or 0) >= (s.desired_number_scheduled or 0),
                 desired=s.desired_number_scheduled or 0, current=s.current_number_scheduled or 0,
                 ready=s.number_ready or 0, node_selector=ds.spec.template.spec.node_selector or None)


def job_status(job: Any) -> str:
    for type_ in ("Failed", "Complete", "Suspended"):
        c = condition(job, type_)
        if c is not None and c.status == "True":
            return f"Failed ({c.reason})" if type_ == "Failed" and c.reason else type_
    return "Running"


def job_row(job: Any, now: datetime) -> Row:
    status = job_status(job)
    return _base(job, now, not status.startswith("Failed"), status=status,
                 completions=f"{job.status.succeeded or 0}/{job.spec.completions or 1}",
                 failed=job.status.failed or 0, owner=_owner(job))


def cron_job_health(cj: Any, now: datetime) -> str | None:
    """What is wrong with a CronJob, or None: suspended (no run starts), or its last due run has not succeeded."""
    s = cj.status
    if cj.spec.suspend:
        return "suspended"
    return overdue(cj.spec.schedule, cj.spec.time_zone, cj.metadata.creation_timestamp,
                   s.last_successful_time if s else None, len((s.active if s else None) or []), now)


def cron_job_row(cj: Any, now: datetime) -> Row:
    s, problem = cj.status, cron_job_health(cj, now)
    return _base(cj, now, problem is None, schedule=cj.spec.schedule, suspend=bool(cj.spec.suspend),
                 active=len((s.active if s else None) or []), last_schedule=age(s.last_schedule_time, now),
                 last_success=age(s.last_successful_time, now), **({"problem": problem} if problem else {}))


def node_status(n: Any) -> str:
    ready = condition(n, "Ready")
    status = "Ready" if ready is not None and ready.status == "True" else "NotReady"
    return f"{status},SchedulingDisabled" if n.spec.unschedulable else status


def node_row(n: Any, now: datetime) -> Row:
    pressure = [c.type for c in n.status.conditions or [] if c.type in PRESSURE and c.status == "True"]
    status = node_status(n)
    zone = (n.metadata.labels or {}).get(ZONE)
    sizes = {k: v for k, v in (n.status.allocatable or {}).items() if k in ("cpu", "memory") or "/" in k}
    return _base(n, now, status == "Ready" and not pressure, status=status, pressure=pressure,
                 **({"zone": zone} if zone else {}), allocatable=sizes,
                 taints=[f"{t.key}={t.value or ''}:{t.effect}" for t in n.spec.taints or []],
                 version=n.status.node_info.kubelet_version if n.status.node_info else None)


def service_row(svc: Any, now: datetime) -> Row:
    ports = [f"{p.port}/{p.protocol or 'TCP'}" + (f"→{p.target_port}" if p.target_port != p.port else "")
             for p in svc.spec.ports or []]
    return _base(svc, now, type=svc.spec.type, cluster_ip=svc.spec.cluster_ip, ports=ports,
                 selector=svc.spec.selector or None)


def endpoints_row(ep: Any, now: datetime) -> Row:
    ready = sum(len(s.addresses or []) for s in ep.subsets or [])
    not_ready = sum(len(s.not_ready_addresses or []) for s in ep.subsets or [])
    return _base(ep, now, ready > 0, ready_addresses=ready, not_ready_addresses=not_ready)


def claim_row(pvc: Any, now: datetime) -> Row:
    phase = pvc.status.phase if pvc.status else None
    return _base(pvc, now, phase == "Bound", status=phase, volume=pvc.spec.volume_name,
                 capacity=(pvc.status.capacity or {}).get("storage") if pvc.status else None,
                 storage_class=pvc.spec.storage_class_name)


def volume_row(pv: Any, now: datetime) -> Row:
    ref = pv.spec.claim_ref
    return _base(pv, now, pv.status.phase in ("Bound", "Available"), status=pv.status.phase,
                 capacity=(pv.spec.capacity or {}).get("storage"), storage_class=pv.spec.storage_class_name,
                 claim=f"{ref.namespace}/{ref.name}" if ref else None)


def storage_class_row(sc: Any, now: datetime) -> Row:
    default = (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    return _base(sc, now, provisioner=sc.provisioner, default=default,
                 binding_mode=sc.volume_binding_mode or "Immediate")


def network_policy_row(np: Any, now: datetime) -> Row:
    return _base(np, now, pod_selector=selector_of(np.spec.pod_selector) or "(all pods)",
                 policy_types=np.spec.policy_types or [])


def config_map_row(cm: Any, now: datetime) -> Row:
    return _base(cm, now, keys=sorted([*(cm.data or {}), *(cm.binary_data or {})]))


def secret_row(secret: Any, now: datetime) -> Row:
    return _base(secret, now, type=secret.type, keys=sorted(secret.data or {}))  # names only, never values


def hpa_row(hpa: Any, now: datetime) -> Row:
    s, ref = hpa.status, hpa.spec.scale_target_ref
    limited, active = condition(hpa, "ScalingLimited"), condition(hpa, "ScalingActive")
    blind = active is not None and active.status == "False"  # it cannot compute a replica count: not scaling
    return _base(hpa, now, not (limited is not None and limited.status == "True") and not blind,
                 reference=f"{ref.kind}/{ref.name}", min=hpa.spec.min_replicas or 1, max=hpa.spec.max_replicas,
                 replicas=s.current_replicas if s else None, desired=s.desired_replicas if s else None,
                 **({"not_scaling": f"{active.reason}: {active.message}"} if blind else {}))


def service_account_row(sa: Any, now: datetime) -> Row:
    return _base(sa, now, image_pull_secrets=[r.name for r in sa.image_pull_secrets or []] or None,
                 **({"identity": identity} if (identity := workload_identity(sa)) else {}))


def quota_usage(q: Any) -> list[dict[str, Any]]:
    """Each resource a ResourceQuota limits: used and hard, as `kubectl describe quota` lists them, and whether
    it is spent (used at or above hard: the next pod that needs it is refused)."""
    s = q.status
    hard, used = (s.hard if s else None) or (q.spec.hard or {}), (s.used if s else None) or {}
    return [{"resource": r, "used": used.get(r, "0"), "hard": hard[r],
             "spent": quantity(used.get(r, "0")) >= quantity(hard[r])} for r in sorted(hard)]


def quota_row(q: Any, now: datetime) -> Row:
    usage = quota_usage(q)
    return _base(q, now, not any(u["spent"] for u in usage),
                 used=", ".join(f"{u['resource']}: {u['used']}/{u['hard']}" for u in usage))


def limit_range_row(lr: Any, now: datetime) -> Row:
    return _base(lr, now, limits=[f"{i.type} {r} max {(i.max or {}).get(r, '-')}" for i in lr.spec.limits or []
                                  for r in sorted({*(i.max or {}), *(i.min or {}), *(i.default or {})})])


def namespace_row(ns: Any, now: datetime) -> Row:
    return _base(ns, now, ns.status.phase == "Active", status=ns.status.phase)


def _event(e: Any, now: datetime) -> Row:
    return {"name": e.metadata.name, **event_row(e, now), "healthy": e.type != "Warning"}


ROWS: dict[str, Callable[[Any, datetime], Row]] = {
    "Pod": pod_row, "Deployment": deployment_row, "ReplicaSet": replica_set_row, "StatefulSet": stateful_set_row,
    "DaemonSet": daemon_set_row, "Job": job_row, "CronJob": cron_job_row, "Node": node_row,
    "Service": service_row, "Endpoints": endpoints_row, "PersistentVolumeClaim": claim_row,
    "PersistentVolume": volume_row, "StorageClass": storage_class_row, "NetworkPolicy": network_policy_row,
    "ConfigMap": config_map_row, "Secret": secret_row, "HorizontalPodAutoscaler": hpa_row,
    "Namespace": namespace_row, "Event": _event, "ResourceQuota": quota_row, "LimitRange": limit_range_row,
    "ServiceAccount": service_account_row,
}
