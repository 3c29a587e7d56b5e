"""Kubernetes read tools: pods and why they are unhealthy, a pod's description, events, logs, a rollout.

Every answer's `invocation` is the tool call itself (Tool.summary), as for every opsbot tool.
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
    ContainerName,
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
from tools.timerange import parse_duration

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
MAX_SCANNED_LOG_LINES = 5000
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
        "events": [_event_row(e, now) for e in sort_events(events)[:10]],
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


# -- events -------------------------------------------------------------------------------------------


class K8sEventsArgs(Args):
    namespace: Namespace
    object_name: ObjectName | None = Field(
        None, description="only events about this object and those named after it (a deployment's name also "
        "matches its replica sets and pods), e.g. 'checkout'")
    limit: int = Field(20, ge=1, le=100, description="at most this many events")


@tool("kubernetes")
def k8s_events(ctx: ToolContext, args: K8sEventsArgs) -> ToolResult:
    """Recent Kubernetes events in a namespace, warnings first, then newest first: type, reason, the
    object, message, how many times it happened and when last. Events are kept about an hour."""
    ns, name = args.namespace, args.object_name
    require_namespace(ctx, ns)
    invocation = k8s_events.summary(args)
    items = call(ctx, f"the events in namespace {ns}", "core", "list_namespaced_event", ns).items
    if name:
        items = [e for e in items if e.involved_object.name == name
                 or (e.involved_object.name or "").startswith(f"{name}-")]
    if not items:
        about = f" about '{name}' or objects named after it" if name else ""
        return empty(k8s_events.name, invocation, f"no events in namespace '{ns}'{about} (events are kept ~1h)")
    now = ctx.now()
    ordered = sort_events(items)
    data = {
        "namespace": ns, "object_name": name, "total": len(items),
        "warnings": sum(1 for e in items if e.type == "Warning"),
        "events": [_event_row(e, now) for e in ordered[: args.limit]],
    }
    notice = f"showing {args.limit} of {len(items)} events" if len(items) > args.limit else None
    return ok(k8s_events.name, invocation, data, notice)


def _last_seen(e: Any) -> datetime | None:
    return e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp


def sort_events(events: list[Any]) -> list[Any]:
    newest_first = sorted(events, key=lambda e: _last_seen(e).timestamp() if _last_seen(e) else 0, reverse=True)
    return sorted(newest_first, key=lambda e: e.type != "Warning")


def _event_row(e: Any, now: datetime) -> dict[str, Any]:
    return {
        "type": e.type, "reason": e.reason,
        "object": f"{e.involved_object.kind}/{e.involved_object.name}",
        "message": e.message, "count": e.count or 1,
        "last_seen": age(_last_seen(e), now), "last_seen_at": iso(_last_seen(e)),
    }


# -- logs ---------------------------------------------------------------------------------------------


class K8sPodLogsArgs(Args):
    namespace: Namespace
    pod: PodName = Field(description="a pod name, or a deployment name to read the logs of its newest pod")
    container: ContainerName | None = Field(None, description="the container; default: the pod's first")
    tail_lines: int = Field(100, ge=1, le=1000, description="at most this many lines, the newest")
    previous: bool = Field(False, description="the previous (crashed) container's logs instead of the current")
    since: str | None = Field(None, max_length=16, description="only lines newer than this, e.g. '30m', '2h'")
    filter: str | None = Field(None, min_length=1, max_length=200,
                               description="keep only lines containing this text (case-insensitive); "
                               f"searches up to the last {MAX_SCANNED_LOG_LINES} lines")


@tool("kubernetes")
def k8s_pod_logs(ctx: ToolContext, args: K8sPodLogsArgs) -> ToolResult:
    """A pod's container logs, newest lines last. Give a deployment name instead of a pod to read its newest
    pod (the answer says which). Use previous=true for the crashed container of a restarting pod (e.g. in
    CrashLoopBackOff: why it exited)."""
    ns = args.namespace
    require_namespace(ctx, ns)
    since_s = int(parse_duration(args.since).total_seconds()) if args.since else None
    if since_s is not None and since_s <= 0:
        raise ToolInputError(f"since must be a positive duration such as '30m', not '{args.since}'")
    p, notice = _pod_or_newest_of_deployment(ctx, ns, args.pod)
    if p is None:
        return empty(k8s_pod_logs.name, k8s_pod_logs.summary(args), notice or "")
    name = p.metadata.name
    containers = [c.name for c in p.spec.containers]
    container = args.container or containers[0]
    if container not in containers:
        raise ToolInputError(f"pod '{name}' has no container '{container}'; containers: {', '.join(containers)}")
    invocation = k8s_pod_logs.summary(args)
    fetch = MAX_SCANNED_LOG_LINES if args.filter else args.tail_lines
    try:
        text = call(ctx, f"the logs of pod {ns}/{name}", "core", "read_namespaced_pod_log", name, ns,
                    container=container, tail_lines=fetch, previous=args.previous or None, since_seconds=since_s)
    except ApiException as e:
        raise ToolInputError(f"cannot read the logs of pod '{name}': {message(e)}") from None
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if args.filter:
        lines = [line for line in lines if args.filter.lower() in line.lower()][-args.tail_lines:]
    if not lines:
        which = f"{'previous' if args.previous else 'current'} container '{container}' of pod '{name}' in '{ns}'"
        scope = [f"since {args.since}"] if args.since else []
        if args.filter:
            scope.append(f"matching '{args.filter}' in the last {fetch} lines")
        searched = f"no log lines from the {which}" + (f" ({', '.join(scope)})" if scope else "")
        return empty(k8s_pod_logs.name, invocation, f"{searched}; {notice}" if notice else searched)
    data = {"pod": name, "container": container, "previous": args.previous, "lines": lines}
    return ok(k8s_pod_logs.name, invocation, data, notice)


def _pod_or_newest_of_deployment(ctx: ToolContext, ns: str, name: str) -> tuple[Any, str | None]:
    try:
        return call(ctx, f"pod {ns}/{name}", "core", "read_namespaced_pod", name, ns, passthrough=(404,)), None
    except ApiException:
        pass
    try:
        d = call(ctx, f"deployment {ns}/{name}", "apps", "read_namespaced_deployment", name, ns, passthrough=(404,))
    except ApiException:
        raise pod_not_found(ctx, ns, name) from None
    selector = selector_of(d.spec.selector)
    pods = call(ctx, f"the pods of deployment {ns}/{name}", "core", "list_namespaced_pod", ns,
                label_selector=selector).items
    if not pods:
        return None, f"deployment '{name}' in namespace '{ns}' has no pods (selector {selector})"
    newest = max(pods, key=lambda p: (p.metadata.creation_timestamp, p.metadata.name))
    return newest, f"'{name}' is a deployment; showing its newest pod {newest.metadata.name} (of {len(pods)})"


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


TOOLS = [k8s_list_pods, k8s_describe_pod, k8s_events, k8s_pod_logs, k8s_get_deployment]
