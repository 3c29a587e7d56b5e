"""Workloads described: a Deployment's rollout and revision history, ReplicaSets, StatefulSets (pods by
ordinal, claim templates), DaemonSets (pods per node), Jobs (why they failed, their pods), CronJobs (schedule,
their Jobs) and HorizontalPodAutoscalers (targets, limits, conditions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tools.context import ToolContext
from tools.k8s_api import age, call, iso, selector_of
from tools.k8s_pods import pod_row
from tools.k8s_revisions import REVISION, current_revision, image_of, plan, revision_of
from tools.k8s_rows import cron_job_health, job_row, job_status

CHANGE_CAUSE = "kubernetes.io/change-cause"


def _conditions(obj: Any) -> list[dict[str, Any]]:
    return [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
            for c in (obj.status.conditions if obj.status else None) or []]


def _pods(ctx: ToolContext, ns: str, selector: str, now: datetime) -> list[dict[str, Any]]:
    pods = call(ctx, f"the pods of {selector} in {ns}", "core", "list_namespaced_pod", ns,
                label_selector=selector).items
    return [{k: v for k, v in pod_row(p, now).items() if k != "healthy"} for p in
            sorted(pods, key=lambda p: p.metadata.name)]


def _owned(items: list[Any], uid: str) -> list[Any]:
    return [i for i in items if any(r.uid == uid for r in i.metadata.owner_references or [])]


def rollout_status(d: Any) -> tuple[str, bool]:
    """What `kubectl rollout status` would say, and whether the deployment is fully rolled out and ready."""
    name, s = d.metadata.name, d.status
    desired = d.spec.replicas or 0
    updated, replicas, available = s.updated_replicas or 0, s.replicas or 0, s.available_replicas or 0
    if (d.metadata.generation or 0) > (s.observed_generation or 0):
        return "waiting for the deployment spec update to be observed", False
    progressing = next((c for c in s.conditions or [] if c.type == "Progressing"), None)
    if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        return (f"stuck: deployment '{name}' exceeded its progress deadline (ProgressDeadlineExceeded); "
                f"{available} of {desired} replicas available ({progressing.message})"), False
    if updated < desired:
        return f"rolling out: {updated} of {desired} new replicas have been updated", False
    if replicas > updated:
        return f"rolling out: {replicas - updated} old replicas are pending termination", False
    if available < updated:
        return f"rolling out: {available} of {updated} updated replicas are available", False
    return f"rolled out: {available} of {desired} replicas updated and available", True


def _revision_row(rs: Any, now: datetime, current: str | None) -> dict[str, Any]:
    annotations = rs.metadata.annotations or {}
    rev = annotations.get(REVISION, "0")
    return {
        "revision": int(rev) if rev.isdigit() else 0,
        "image": image_of(rs.spec.template),
        "change_cause": annotations.get(CHANGE_CAUSE),
        "created": iso(rs.metadata.creation_timestamp), "age": age(rs.metadata.creation_timestamp, now),
        "replica_set": rs.metadata.name, "pods": rs.status.replicas or 0, "live": rev == current,
    }


def describe_deployment(ctx: ToolContext, d: Any, now: datetime) -> dict[str, Any]:
    ns, name = d.metadata.namespace, d.metadata.name
    selector = selector_of(d.spec.selector)
    sets = call(ctx, f"the replica sets of deployment {ns}/{name}", "apps", "list_namespaced_replica_set", ns,
                label_selector=selector).items
    current = (d.metadata.annotations or {}).get(REVISION)
    owned = _owned(sets, d.metadata.uid)
    revisions = sorted((_revision_row(rs, now, current) for rs in owned), key=lambda r: r["revision"])
    rows = [revision_of(rs) for rs in owned]
    rollback = plan(f"{ns}/{name}", current_revision(d, rows), rows)  # from the ReplicaSets' status alone
    s = d.status
    rollout, healthy = rollout_status(d)
    rolling = d.spec.strategy.rolling_update if d.spec.strategy else None
    return {
        "replicas": {"desired": d.spec.replicas or 0, "current": s.replicas or 0, "ready": s.ready_replicas or 0,
                     "updated": s.updated_replicas or 0, "available": s.available_replicas or 0,
                     "unavailable": s.unavailable_replicas or 0},
        "rollout": rollout, "healthy": healthy,
        "image": image_of(d.spec.template),
        "revision": int(current) if current and current.isdigit() else None,
        "selector": selector,
        "strategy": (d.spec.strategy.type if d.spec.strategy else None) or "RollingUpdate",
        "max_surge": str(rolling.max_surge) if rolling and rolling.max_surge is not None else None,
        "max_unavailable": str(rolling.max_unavailable) if rolling and rolling.max_unavailable is not None else None,
        "conditions": _conditions(d),
        "revisions": revisions,
        "rollback": rollback.data(),
    }


def describe_replica_set(ctx: ToolContext, rs: Any, now: datetime) -> dict[str, Any]:
    ann = rs.metadata.annotations or {}
    return {"desired": rs.spec.replicas or 0, "current": rs.status.replicas or 0,
            "ready": rs.status.ready_replicas or 0, "revision": ann.get(REVISION),
            "image": image_of(rs.spec.template),
            "pods": _pods(ctx, rs.metadata.namespace, selector_of(rs.spec.selector), now)}


def describe_stateful_set(ctx: ToolContext, sts: Any, now: datetime) -> dict[str, Any]:
    s = sts.status
    return {
        "replicas": {"desired": sts.spec.replicas or 0, "current": s.replicas or 0, "ready": s.ready_replicas or 0,
                     "updated": s.updated_replicas or 0},
        "pod_management": sts.spec.pod_management_policy or "OrderedReady",
        "note": "OrderedReady: pod N+1 is created only once pod N is Running and Ready"
        if (sts.spec.pod_management_policy or "OrderedReady") == "OrderedReady" else None,
        "service_name": sts.spec.service_name,
        "image": ", ".join(c.image for c in sts.spec.template.spec.containers),
        "volume_claim_templates": [{"name": t.metadata.name, "storage_class": t.spec.storage_class_name,
                                    "size": ((t.spec.resources.requests or {}) if t.spec.resources else {})
                                    .get("storage")} for t in sts.spec.volume_claim_templates or []],
        "current_revision": s.current_revision, "update_revision": s.update_revision,
        "pods": _pods(ctx, sts.metadata.namespace, selector_of(sts.spec.selector), now),
    }


def describe_daemon_set(ctx: ToolContext, ds: Any, now: datetime) -> dict[str, Any]:
    s, spec = ds.status, ds.spec.template.spec
    return {
        "desired": s.desired_number_scheduled or 0, "current": s.current_number_scheduled or 0,
        "ready": s.number_ready or 0, "available": s.number_available or 0,
        "misscheduled": s.number_misscheduled or 0, "node_selector": spec.node_selector or None,
        "tolerations": [f"{t.key or '*'}:{t.effect or '*'}" for t in spec.tolerations or []] or None,
        "image": ", ".join(c.image for c in spec.containers),
        "pods": _pods(ctx, ds.metadata.namespace, selector_of(ds.spec.selector), now),
    }


def pods_statuses(job: Any) -> str:
    """`kubectl describe job`'s "Pods Statuses" line."""
    s = job.status
    return f"{s.active or 0} Active ({s.ready or 0} Ready) / {s.succeeded or 0} Succeeded / {s.failed or 0} Failed"


def describe_job(ctx: ToolContext, job: Any, now: datetime) -> dict[str, Any]:
    s = job.status
    pods = _pods(ctx, job.metadata.namespace, selector_of(job.spec.selector), now) if job.spec.selector else []
    return {
        "status": job_status(job), "pods_statuses": pods_statuses(job),
        "completions": job.spec.completions or 1, "parallelism": job.spec.parallelism,
        "backoff_limit": job.spec.backoff_limit, "succeeded": s.succeeded or 0, "failed": s.failed or 0,
        "active": s.active or 0, "started": iso(s.start_time), "completed": iso(s.completion_time),
        "conditions": _conditions(job),
        "image": ", ".join(c.image for c in job.spec.template.spec.containers),
        "pods": sorted(pods, key=lambda p: p["age"] or "")[:10],
    }


def suspended_since(cj: Any) -> tuple[str | None, str | None]:
    """When spec.suspend was last set and by which manager: the managedFields entry that owns it."""
    owners = [m for m in cj.metadata.managed_fields or []
              if "f:suspend" in ((m.fields_v1 or {}).get("f:spec") or {}) and m.time]
    newest = max(owners, key=lambda m: m.time, default=None)
    return (iso(newest.time), newest.manager) if newest else (None, None)


def describe_cron_job(ctx: ToolContext, cj: Any, now: datetime) -> dict[str, Any]:
    ns = cj.metadata.namespace
    jobs = _owned(call(ctx, f"the jobs in {ns}", "batch", "list_namespaced_job", ns).items, cj.metadata.uid)
    s = cj.status
    since, by = suspended_since(cj) if cj.spec.suspend else (None, None)
    return {
        "schedule": cj.spec.schedule, "time_zone": cj.spec.time_zone, "suspend": bool(cj.spec.suspend),
        **({"suspended_since": since, "suspended_by": by} if since else {}),
        "status": cron_job_health(cj, now) or "healthy",
        "concurrency_policy": cj.spec.concurrency_policy, "last_schedule": iso(s.last_schedule_time),
        "last_successful": iso(s.last_successful_time), "active": [r.name for r in s.active or []],
        "jobs": [{k: v for k, v in job_row(j, now).items() if k != "healthy"}
                 for j in sorted(jobs, key=lambda j: j.metadata.creation_timestamp, reverse=True)],
    }


def describe_hpa(ctx: ToolContext, hpa: Any, now: datetime) -> dict[str, Any]:
    s, ref = hpa.status, hpa.spec.scale_target_ref

    def metric(m: Any) -> str:
        if m.type == "Resource" and m.resource:
            t = m.resource.target
            goal = f"{t.average_utilization}%" if t.average_utilization is not None else t.average_value or t.value
            return f"{m.resource.name} {t.type} {goal}"
        return m.type

    def current(m: Any) -> str:
        if m.type == "Resource" and m.resource and m.resource.current:
            c = m.resource.current
            return f"{m.resource.name} {c.average_utilization}%" if c.average_utilization is not None \
                else f"{m.resource.name} {c.average_value}"
        return m.type

    return {"target": f"{ref.kind}/{ref.name}", "min_replicas": hpa.spec.min_replicas or 1,
            "max_replicas": hpa.spec.max_replicas, "current_replicas": s.current_replicas if s else None,
            "desired_replicas": s.desired_replicas if s else None,
            "metrics": [metric(m) for m in hpa.spec.metrics or []],
            "current_metrics": [current(m) for m in (s.current_metrics if s else None) or []],
            "last_scale": iso(s.last_scale_time) if s else None, "conditions": _conditions(hpa)}
