"""Kubernetes workloads: a deployment's replicas, rollout status in words and revision history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from tools.base import Args, ToolResult, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    Namespace,
    ObjectName,
    age,
    call,
    deployment_not_found,
    iso,
    read_or,
    require_namespace,
    selector_of,
)

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


# -- deployments --------------------------------------------------------------------------------------


class K8sGetDeploymentArgs(Args):
    namespace: Namespace
    deployment: ObjectName = Field(description="the deployment's name, e.g. 'checkout'")


@tool("kubernetes")
def k8s_get_deployment(ctx: ToolContext, args: K8sGetDeploymentArgs) -> ToolResult:
    """A deployment's state: desired, ready, updated and available replicas, the rollout status in words
    (rolled out, progressing, stuck), its image, and the revision history (revision, image, change cause,
    created), oldest first, as `kubectl rollout history` reconstructs it from the replica sets."""
    ns, name = args.namespace, args.deployment
    require_namespace(ctx, ns)
    d = read_or(ctx, f"deployment {ns}/{name}", "apps", "read_namespaced_deployment", name, ns,
                missing=lambda: deployment_not_found(ctx, ns, name))
    selector = selector_of(d.spec.selector)
    sets = call(ctx, f"the replica sets of deployment {ns}/{name}", "apps", "list_namespaced_replica_set", ns,
                label_selector=selector).items
    owned = [rs for rs in sets if any(r.uid == d.metadata.uid for r in rs.metadata.owner_references or [])]
    now = ctx.now()
    current = (d.metadata.annotations or {}).get(REVISION)
    revisions = [_revision_row(rs, now, current) for rs in owned]
    revisions.sort(key=lambda r: r["revision"])
    s = d.status
    counts = {"desired": d.spec.replicas or 0, "current": s.replicas or 0, "ready": s.ready_replicas or 0,
              "updated": s.updated_replicas or 0, "available": s.available_replicas or 0,
              "unavailable": s.unavailable_replicas or 0}
    rollout, healthy = rollout_status(d)
    data = {
        "name": name, "namespace": ns, "replicas": counts, "rollout": rollout, "healthy": healthy,
        "image": ", ".join(c.image for c in d.spec.template.spec.containers),
        "revision": int(current) if current and current.isdigit() else None,
        "selector": selector,
        "conditions": [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
                       for c in s.conditions or []],
        "revisions": revisions,
    }
    return ok(k8s_get_deployment.name, k8s_get_deployment.summary(args), data)


def _revision_row(rs: Any, now: datetime, current: str | None) -> dict[str, Any]:
    annotations = rs.metadata.annotations or {}
    rev = annotations.get(REVISION, "0")
    return {
        "revision": int(rev) if rev.isdigit() else 0,
        "image": ", ".join(c.image for c in rs.spec.template.spec.containers),
        "change_cause": annotations.get(CHANGE_CAUSE),
        "created": iso(rs.metadata.creation_timestamp), "age": age(rs.metadata.creation_timestamp, now),
        "replica_set": rs.metadata.name, "pods": rs.status.replicas or 0, "live": rev == current,
    }


def rollout_status(d: Any) -> tuple[str, bool]:
    """What `kubectl rollout status` would say, and whether the deployment is fully rolled out and ready."""
    name, s = d.metadata.name, d.status
    desired = d.spec.replicas or 0
    updated, replicas, available = s.updated_replicas or 0, s.replicas or 0, s.available_replicas or 0
    if (d.metadata.generation or 0) > (s.observed_generation or 0):
        return "waiting for the deployment spec update to be observed", False
    progressing = next((c for c in s.conditions or [] if c.type == "Progressing"), None)
    if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        return (f"stuck: deployment '{name}' exceeded its progress deadline; {available} of {desired} "
                f"replicas available ({progressing.message})"), False
    if updated < desired:
        return f"rolling out: {updated} of {desired} new replicas have been updated", False
    if replicas > updated:
        return f"rolling out: {replicas - updated} old replicas are pending termination", False
    if available < updated:
        return f"rolling out: {available} of {updated} updated replicas are available", False
    return f"rolled out: {available} of {desired} replicas updated and available", True


TOOLS = [k8s_get_deployment]
