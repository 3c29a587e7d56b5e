"""Kubernetes mutating tools: scale, rollout restart, delete pod, roll back. Each declares its preview.

The door computes the preview from the current state, the policy decides, and only then does the tool
function run. The functions here never check permissions: that is the gate's job (bot/actions.py).
"""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import Field

from tools.base import ClusterArgs, Preview, ToolInputError, ToolResult, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    Namespace,
    ObjectName,
    PodName,
    call,
    deployment_not_found,
    message,
    pod_not_found,
    read_or,
    require_namespace,
    selector_of,
)
from tools.k8s_revision_health import prometheus_history
from tools.k8s_revisions import REVISION, Revision, RollbackPlan, current_revision, image_of, plan, revision_of

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class DeploymentArgs(ClusterArgs):
    namespace: Namespace
    deployment: ObjectName = Field(description="the deployment's name, exactly as the cluster has it")


class K8sScaleArgs(DeploymentArgs):
    replicas: int = Field(ge=0, le=1000, description="the absolute replica count wanted, e.g. 6")


class K8sDeletePodArgs(ClusterArgs):
    namespace: Namespace
    pod: PodName = Field(description="the pod's full name, from k8s_list")


class K8sRollbackArgs(DeploymentArgs):
    to_revision: int | None = Field(None, ge=1, description="revision to return to; default: the newest earlier "
                                    "revision whose pod template differs from the running one")


def _deployment(ctx: ToolContext, ns: str, name: str) -> Any:
    require_namespace(ctx, ns)
    return read_or(ctx, f"deployment {ns}/{name}", "apps", "read_namespaced_deployment", name, ns,
                   missing=lambda: deployment_not_found(ctx, ns, name))


def _pods_of(ctx: ToolContext, d: Any) -> list[str]:
    ns = d.metadata.namespace
    pods = call(ctx, f"the pods of deployment {ns}/{d.metadata.name}", "core", "list_namespaced_pod", ns,
                label_selector=selector_of(d.spec.selector)).items
    return sorted(p.metadata.name for p in pods if not p.metadata.deletion_timestamp)


def _target(ns: str, name: str) -> str:
    return f"{ns}/deployment/{name}"


# -- scale --------------------------------------------------------------------------------------------


def _scale_preview(ctx: ToolContext, args: K8sScaleArgs) -> Preview:
    d = _deployment(ctx, args.namespace, args.deployment)
    current = d.spec.replicas or 0
    pods = _pods_of(ctx, d)
    return Preview(
        target=_target(args.namespace, args.deployment), namespace=args.namespace, deployment=args.deployment,
        summary=f"scale {args.namespace}/{args.deployment} from {current} to {args.replicas} replicas",
        current={"replicas": current, "pods": len(pods)}, proposed={"replicas": args.replicas},
        pods_affected=pods[args.replicas:] if args.replicas < current else [],
        replicas=(current, args.replicas),
    )


@tool("kubernetes", preview=_scale_preview)
def k8s_scale(ctx: ToolContext, args: K8sScaleArgs) -> ToolResult:
    """Scale a deployment to an absolute replica count. Needs approval per policy; returns a pending id."""
    ns, name = args.namespace, args.deployment
    call(ctx, f"scaling {ns}/{name}", "apps", "patch_namespaced_deployment_scale", name, ns,
         {"spec": {"replicas": args.replicas}})
    d = _deployment(ctx, ns, name)
    return ok(k8s_scale.name, k8s_scale.summary(args),
              {"deployment": f"{ns}/{name}", "replicas": d.spec.replicas, "pods": _pods_of(ctx, d)})


# -- rollout restart ----------------------------------------------------------------------------------


def _restart_preview(ctx: ToolContext, args: DeploymentArgs) -> Preview:
    d = _deployment(ctx, args.namespace, args.deployment)
    pods = _pods_of(ctx, d)
    return Preview(
        target=_target(args.namespace, args.deployment), namespace=args.namespace, deployment=args.deployment,
        summary=f"restart every pod of {args.namespace}/{args.deployment} ({len(pods)} pods, same image)",
        current={"image": image_of(d.spec.template), "pods": len(pods)},
        proposed={"image": image_of(d.spec.template), "pods": "all replaced"}, pods_affected=pods,
    )


@tool("kubernetes", preview=_restart_preview)
def k8s_rollout_restart(ctx: ToolContext, args: DeploymentArgs) -> ToolResult:
    """Rollout-restart a deployment: every pod is replaced, same image. Needs approval per policy."""
    ns, name = args.namespace, args.deployment
    stamp = ctx.now().isoformat().replace("+00:00", "Z")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    call(ctx, f"restarting {ns}/{name}", "apps", "patch_namespaced_deployment", name, ns, patch)
    d = _deployment(ctx, ns, name)
    return ok(k8s_rollout_restart.name, k8s_rollout_restart.summary(args),
              {"deployment": f"{ns}/{name}", "restarted_at": stamp, "pods": _pods_of(ctx, d)})


# -- delete pod ---------------------------------------------------------------------------------------


def _pod(ctx: ToolContext, ns: str, name: str) -> Any:
    require_namespace(ctx, ns)
    return read_or(ctx, f"pod {ns}/{name}", "core", "read_namespaced_pod", name, ns,
                   missing=lambda: pod_not_found(ctx, ns, name))


def _delete_preview(ctx: ToolContext, args: K8sDeletePodArgs) -> Preview:
    p = _pod(ctx, args.namespace, args.pod)
    owners = [f"{o.kind}/{o.name}" for o in p.metadata.owner_references or []]
    after = f"its owner {owners[0]} creates a replacement" if owners else "nothing replaces it (no owner)"
    return Preview(
        target=f"{args.namespace}/pod/{args.pod}", namespace=args.namespace,
        summary=f"delete pod {args.namespace}/{args.pod}; {after}",
        current={"phase": p.status.phase, "owner": owners[0] if owners else None},
        proposed={"deleted": True}, pods_affected=[args.pod],
    )


@tool("kubernetes", preview=_delete_preview)
def k8s_delete_pod(ctx: ToolContext, args: K8sDeletePodArgs) -> ToolResult:
    """Delete one pod so its deployment replaces it. Needs approval per policy; returns a pending id."""
    ns, name = args.namespace, args.pod
    try:
        call(ctx, f"deleting pod {ns}/{name}", "core", "delete_namespaced_pod", name, ns, passthrough=(404,))
    except ApiException as e:
        raise ToolInputError(f"pod {ns}/{name} could not be deleted: {message(e)}") from None
    return ok(k8s_delete_pod.name, k8s_delete_pod.summary(args), {"deleted": f"{ns}/{name}"})


# -- rollback -----------------------------------------------------------------------------------------


def replica_sets(ctx: ToolContext, d: Any) -> list[Any]:
    """The ReplicaSets the deployment owns: its revisions, as `kubectl rollout history` lists them."""
    ns = d.metadata.namespace
    sets = call(ctx, f"the replica sets of {ns}/{d.metadata.name}", "apps", "list_namespaced_replica_set", ns,
                label_selector=selector_of(d.spec.selector)).items
    return [rs for rs in sets if any(r.uid == d.metadata.uid for r in rs.metadata.owner_references or [])]


def _rollback_plan(ctx: ToolContext, args: K8sRollbackArgs) -> tuple[Any, RollbackPlan, Revision, Any]:
    """The deployment, where its rollback goes, and that revision's ReplicaSet; a rollback that would change
    nothing is refused here, so the gate never makes a pending action of it."""
    d = _deployment(ctx, args.namespace, args.deployment)
    sets = {rs.metadata.name: rs for rs in replica_sets(ctx, d)}
    rows = [revision_of(rs) for rs in sets.values()]
    chosen = plan(f"{args.namespace}/{args.deployment}", current_revision(d, rows), rows, args.to_revision,
                  prometheus_history(ctx, args.namespace))
    if chosen.target is None:
        raise ToolInputError(f"no rollback of {args.namespace}/{args.deployment}: {chosen.refused}")
    return d, chosen, chosen.target, sets[chosen.target.replica_set or ""]


def _rollback_preview(ctx: ToolContext, args: K8sRollbackArgs) -> Preview:
    d, chosen, target, _ = _rollback_plan(ctx, args)
    current = chosen.current
    return Preview(
        target=_target(args.namespace, args.deployment), namespace=args.namespace, deployment=args.deployment,
        summary=(f"roll back {args.namespace}/{args.deployment} from revision {current.number} ({current.image}) "
                 f"to {chosen.reason()}"),
        current={"revision": current.number, "image": current.image},
        proposed={"revision": target.number, "image": target.image, "changes": chosen.changes,
                  "health": chosen.health.evidence if chosen.health else "health not known"},
        pods_affected=_pods_of(ctx, d), pinned={"replica_set": target.replica_set, "image": target.image},
    )


@tool("kubernetes", preview=_rollback_preview)
def k8s_rollback(ctx: ToolContext, args: K8sRollbackArgs) -> ToolResult:
    """Roll a deployment back, like `kubectl rollout undo`, to the newest earlier revision whose pod template
    differs from the running one (a restart's revision runs the same template and is skipped), or to
    to_revision. Refused when no earlier revision differs. Needs approval per policy; returns a pending id."""
    ns, name = args.namespace, args.deployment
    _, _, target, rs = _rollback_plan(ctx, args)
    template = ctx.backends.kubernetes.sanitize_for_serialization(rs.spec.template)
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    call(ctx, f"rolling back {ns}/{name}", "apps", "patch_namespaced_deployment", name, ns,
         [{"op": "replace", "path": "/spec/template", "value": template}],
         _content_type="application/json-patch+json")
    d = _deployment(ctx, ns, name)
    return ok(k8s_rollback.name, k8s_rollback.summary(args),
              {"deployment": f"{ns}/{name}", "revision": (d.metadata.annotations or {}).get(REVISION),
               "restored_from": target.number, "image": image_of(d.spec.template), "pods": _pods_of(ctx, d)})


TOOLS = [k8s_scale, k8s_rollout_restart, k8s_delete_pod, k8s_rollback]
