"""Kubernetes pod tools: the pods of a namespace and why they are unhealthy, and one pod described.

Environment variable values never leave this module: only their names are reported.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import Field, model_validator

from tools.base import Args, ToolInputError, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    LabelSelector,
    Namespace,
    ObjectName,
    PodName,
    age,
    call,
    deployment_not_found,
    iso,
    message,
    pod_not_found,
    read_or,
    require_namespace,
    selector_of,
)
from tools.k8s_events import event_row, sort_events

RECENT_RESTART = timedelta(hours=1)


# -- pods ---------------------------------------------------------------------------------------------


class K8sListPodsArgs(Args):
    namespace: Namespace
    deployment: ObjectName | None = Field(None, description="only the pods of this deployment, e.g. 'checkout'")
    selector: LabelSelector | None = Field(None, description="equality label selector, e.g. 'app=checkout'")
    only_unhealthy: bool = Field(False, description="only pods that are not Running and ready (or Succeeded), "
                                 "or that restarted in the last hour")

    @model_validator(mode="after")
    def _one_filter(self) -> K8sListPodsArgs:
        if self.deployment and self.selector:
            raise ValueError("give either deployment or selector, not both")
        return self


@tool("kubernetes")
def k8s_list_pods(ctx: ToolContext, args: K8sListPodsArgs) -> ToolResult:
    """List the pods of a namespace (optionally of one deployment or label selector), unhealthy ones first:
    status as kubectl shows it (Running, CrashLoopBackOff, ImagePullBackOff, Pending…), ready containers
    ('0/1'), restarts, the last termination (reason and exit code), age and node."""
    ns = args.namespace
    require_namespace(ctx, ns)
    selector = args.selector
    if args.deployment:
        d = read_or(ctx, f"deployment {ns}/{args.deployment}", "apps", "read_namespaced_deployment",
                    args.deployment, ns, missing=lambda: deployment_not_found(ctx, ns, args.deployment))
        selector = selector_of(d.spec.selector)
    invocation = k8s_list_pods.summary(args)
    where = f"namespace '{ns}'" + (f" with label selector '{selector}'" if selector else "")
    try:
        pods = call(ctx, f"the pods in {where}", "core", "list_namespaced_pod", ns,
                    label_selector=selector).items
    except ApiException as e:
        raise ToolInputError(f"the API server rejected the selector '{selector}': {message(e)}") from None
    if not pods:
        return empty(k8s_list_pods.name, invocation, f"no pods in {where}")
    now = ctx.now()
    rows = sorted((pod_row(p, now) for p in pods), key=lambda r: (r["healthy"], r["name"]))
    shown = [r for r in rows if not r["healthy"]] if args.only_unhealthy else rows
    if not shown:
        return empty(k8s_list_pods.name, invocation,
                     f"all {len(rows)} pods in {where} are Running and ready with no restart in the last "
                     "hour; none is unhealthy")
    data = {"namespace": ns, "selector": selector, "summary": _pods_summary(rows), "pods": shown}
    return ok(k8s_list_pods.name, invocation, data)


def pod_status(p: Any) -> str:
    """The STATUS column of kubectl get pods."""
    if p.metadata.deletion_timestamp:
        return "Terminating"
    reason = p.status.reason or p.status.phase or "Unknown"
    for cs in p.status.container_statuses or []:
        state = cs.state
        if state and state.waiting and state.waiting.reason:
            return state.waiting.reason
        if state and state.terminated:
            t = state.terminated
            return t.reason or (f"Signal:{t.signal}" if t.signal else f"ExitCode:{t.exit_code}")
    return reason


def _healthy(p: Any, now: datetime) -> bool:
    """Succeeded, or Running with every container ready and no container restarted in the last hour."""
    if p.status.phase == "Succeeded":
        return True
    statuses = p.status.container_statuses or []
    recent = [t for cs in statuses if cs.last_state and (t := cs.last_state.terminated)
              and t.finished_at and now - t.finished_at < RECENT_RESTART]
    return (p.status.phase == "Running" and bool(statuses) and all(cs.ready for cs in statuses)
            and not p.metadata.deletion_timestamp and not recent)


def _last_termination(p: Any, now: datetime) -> dict[str, Any] | None:
    ended = [cs.last_state.terminated for cs in p.status.container_statuses or []
             if cs.last_state and cs.last_state.terminated]
    if not ended:
        return None
    t = max(ended, key=lambda t: t.finished_at or now)
    return {"reason": t.reason, "exit_code": t.exit_code, "message": t.message or None,
            "ago": age(t.finished_at, now)}


def pod_row(p: Any, now: datetime) -> dict[str, Any]:
    statuses = p.status.container_statuses or []
    return {
        "name": p.metadata.name,
        "status": pod_status(p),
        "ready": f"{sum(1 for cs in statuses if cs.ready)}/{len(p.spec.containers)}",
        "restarts": sum(cs.restart_count for cs in statuses),
        "last_termination": _last_termination(p, now),
        "age": age(p.metadata.creation_timestamp, now),
        "node": p.spec.node_name,
        "healthy": _healthy(p, now),
    }


def _pods_summary(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    ready = sum(1 for r in rows if r["healthy"])
    return f"{len(rows)} pods, {ready} healthy: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


# -- describe -----------------------------------------------------------------------------------------


class K8sDescribePodArgs(Args):
    namespace: Namespace
    pod: PodName = Field(description="the pod's full name, e.g. 'checkout-7d9f5b6c4-x2x9q'")


@tool("kubernetes")
def k8s_describe_pod(ctx: ToolContext, args: K8sDescribePodArgs) -> ToolResult:
    """Describe one pod: conditions, each container's image, state and last state (reason, exit code,
    message), restarts, memory/CPU limits, the NAMES of its environment variables (never their values),
    and the pod's recent events, warnings first."""
    ns, name = args.namespace, args.pod
    require_namespace(ctx, ns)
    p = read_or(ctx, f"pod {ns}/{name}", "core", "read_namespaced_pod", name, ns,
                missing=lambda: pod_not_found(ctx, ns, name))
    now = ctx.now()
    events = call(ctx, f"the events of pod {ns}/{name}", "core", "list_namespaced_event", ns,
                  field_selector=f"involvedObject.name={name},involvedObject.kind=Pod").items
    statuses = {cs.name: cs for cs in p.status.container_statuses or []}
    owner = next((f"{r.kind}/{r.name}" for r in p.metadata.owner_references or [] if r.controller), None)
    data = {
        "name": name, "namespace": ns, "status": pod_status(p), "phase": p.status.phase,
        "node": p.spec.node_name, "created": iso(p.metadata.creation_timestamp),
        "age": age(p.metadata.creation_timestamp, now), "controlled_by": owner,
        "labels": p.metadata.labels or {},
        "conditions": [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
                       for c in p.status.conditions or []],
        "containers": [_container(c, statuses.get(c.name), now) for c in p.spec.containers],
        "events": [event_row(e, now) for e in sort_events(events)[:10]],
    }
    return ok(k8s_describe_pod.name, k8s_describe_pod.summary(args), data)


def _state(state: Any, now: datetime) -> dict[str, Any] | None:
    if state is None:
        return None
    if state.running:
        return {"state": "running", "since": iso(state.running.started_at)}
    if state.waiting:
        return {"state": "waiting", "reason": state.waiting.reason, "message": state.waiting.message}
    if state.terminated:
        t = state.terminated
        return {"state": "terminated", "reason": t.reason, "exit_code": t.exit_code, "message": t.message or None,
                "started": iso(t.started_at), "finished": iso(t.finished_at), "ago": age(t.finished_at, now)}
    return None


def _container(c: Any, cs: Any, now: datetime) -> dict[str, Any]:
    resources = c.resources
    env_from = [f"configMap/{s.config_map_ref.name}" if s.config_map_ref else f"secret/{s.secret_ref.name}"
                for s in c.env_from or [] if s.config_map_ref or s.secret_ref]
    return {
        "name": c.name,
        "image": c.image,
        "ready": cs.ready if cs else False,
        "restarts": cs.restart_count if cs else 0,
        "state": _state(cs.state, now) if cs else None,
        "last_state": _state(cs.last_state, now) if cs else None,
        "env": [e.name for e in c.env or []],  # names only: values may be secrets
        "env_from": env_from,
        "limits": dict(resources.limits or {}) if resources else {},
        "requests": dict(resources.requests or {}) if resources else {},
    }


TOOLS = [k8s_list_pods, k8s_describe_pod]
