"""Kubernetes pod logs: a container's lines (current or previous), by pod or by a deployment's newest pod."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import Field

from tools.base import ClusterArgs, ToolInputError, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    ContainerName,
    Namespace,
    PodName,
    call,
    message,
    owner_selector,
    pod_not_found,
    require_namespace,
)
from tools.k8s_secret_values import mask_secret_values
from tools.timerange import parse_duration

MAX_SCANNED_LOG_LINES = 5000


# -- logs ---------------------------------------------------------------------------------------------


class K8sPodLogsArgs(ClusterArgs):
    namespace: Namespace
    pod: PodName = Field(description="a pod name, or a Deployment, StatefulSet, DaemonSet or Job name to read "
                         "its newest pod")
    container: ContainerName | None = Field(None, description="any container, init and sidecar ones too; "
                                            "default: the pod's first")
    tail_lines: int = Field(100, ge=1, le=1000, description="at most this many lines, the newest")
    previous: bool = Field(False, description="the previous (crashed) container's logs instead of the current")
    since: str | None = Field(None, max_length=16, description="only lines newer than this, e.g. '30m', '2h'")
    filter: str | None = Field(None, min_length=1, max_length=200,
                               description="keep only lines containing this text (case-insensitive); "
                               f"searches up to the last {MAX_SCANNED_LOG_LINES} lines")


@tool("kubernetes")
def k8s_pod_logs(ctx: ToolContext, args: K8sPodLogsArgs) -> ToolResult:
    """A pod's container logs, newest lines last. Give a workload's name instead of a pod to read its newest
    pod (the answer says which). Use previous=true for the crashed container of a restarting pod (e.g. in
    CrashLoopBackOff: why it exited)."""
    ns = args.namespace
    require_namespace(ctx, ns)
    since_s = int(parse_duration(args.since).total_seconds()) if args.since else None
    if since_s is not None and since_s <= 0:
        raise ToolInputError(f"since must be a positive duration such as '30m', not '{args.since}'")
    p, notice = _pod_or_newest_of_workload(ctx, ns, args.pod)
    if p is None:
        return empty(k8s_pod_logs.name, k8s_pod_logs.summary(args), notice or "")
    name = p.metadata.name
    containers = [c.name for c in p.spec.containers]
    inits = [c.name for c in p.spec.init_containers or []]
    container = args.container or containers[0]
    if container not in containers + inits:
        also = f"; init containers: {', '.join(inits)}" if inits else ""
        raise ToolInputError(f"pod '{name}' has no container '{container}'; containers: {', '.join(containers)}"
                             + also)
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
    data = {"pod": name, "container": container, "previous": args.previous,
            "lines": mask_secret_values(ctx, ns, lines)}
    return ok(k8s_pod_logs.name, invocation, data, notice)


def _pod_or_newest_of_workload(ctx: ToolContext, ns: str, name: str) -> tuple[Any, str | None]:
    try:
        return call(ctx, f"pod {ns}/{name}", "core", "read_namespaced_pod", name, ns, passthrough=(404,)), None
    except ApiException:
        pass
    found = owner_selector(ctx, ns, name)
    if found is None:
        raise pod_not_found(ctx, ns, name) from None
    kind, selector = found
    pods = call(ctx, f"the pods of {kind} {ns}/{name}", "core", "list_namespaced_pod", ns,
                label_selector=selector).items
    if not pods:
        return None, f"{kind} '{name}' in namespace '{ns}' has no pods (selector {selector})"
    newest = max(pods, key=lambda p: (p.metadata.creation_timestamp, p.metadata.name))
    return newest, f"'{name}' is a {kind}; showing its newest pod {newest.metadata.name} (of {len(pods)})"


TOOLS = [k8s_pod_logs]
