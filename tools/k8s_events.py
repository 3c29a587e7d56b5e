"""Kubernetes events: what the cluster said about a namespace or an object, warnings first and newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from tools.base import ClusterArgs, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    Namespace,
    ObjectName,
    age,
    call,
    iso,
    require_namespace,
)
from tools.k8s_kinds import KINDS
from tools.k8s_secret_values import mask_secret_values

# -- events -------------------------------------------------------------------------------------------


class K8sEventsArgs(ClusterArgs):
    namespace: Namespace
    object_name: ObjectName | None = Field(
        None, description="only events about this object and those named after it (a deployment's name also "
        "matches its replica sets and pods)")
    kind: str | None = Field(None, max_length=32, description="with object_name: only that one object's "
                             "events, e.g. 'Pod', 'Job', 'Node'")
    limit: int = Field(20, ge=1, le=100, description="at most this many events")

    @model_validator(mode="after")
    def _kind_needs_a_name(self) -> K8sEventsArgs:
        if self.kind and not self.object_name:
            raise ValueError("kind needs object_name")
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(sorted(KINDS))}")
        return self


@tool("kubernetes")
def k8s_events(ctx: ToolContext, args: K8sEventsArgs) -> ToolResult:
    """Recent Kubernetes events in a namespace, warnings first, then newest first: type, reason, the
    object, message, how many times it happened and when last. Events are kept about an hour; events of
    cluster-scoped objects (Node) are in namespace 'default'."""
    ns, name = args.namespace, args.object_name
    require_namespace(ctx, ns)
    invocation = k8s_events.summary(args)
    if name and args.kind:
        items = call(ctx, f"the events of {args.kind} {ns}/{name}", "core", "list_namespaced_event", ns,
                     field_selector=f"involvedObject.kind={args.kind},involvedObject.name={name}").items
    else:
        items = call(ctx, f"the events in namespace {ns}", "core", "list_namespaced_event", ns).items
    if name and not args.kind:
        items = [e for e in items if e.involved_object.name == name
                 or (e.involved_object.name or "").startswith(f"{name}-")]
    if not items:
        about = (f" about {args.kind} '{name}'" if args.kind else f" about '{name}' or objects named after it") \
            if name else ""
        return empty(k8s_events.name, invocation, f"no events in namespace '{ns}'{about} (events are kept ~1h)")
    now = ctx.now()
    ordered = sort_events(items)
    data = {
        "namespace": ns, "object_name": name, "total": len(items),
        "warnings": sum(1 for e in items if e.type == "Warning"),
        "events": mask_secret_values(ctx, ns, [event_row(e, now) for e in ordered[: args.limit]]),
    }
    notice = f"showing {args.limit} of {len(items)} events" if len(items) > args.limit else None
    return ok(k8s_events.name, invocation, data, notice)


def _last_seen(e: Any) -> datetime | None:
    return e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp


def sort_events(events: list[Any]) -> list[Any]:
    newest_first = sorted(events, key=lambda e: _last_seen(e).timestamp() if _last_seen(e) else 0, reverse=True)
    return sorted(newest_first, key=lambda e: e.type != "Warning")


def event_row(e: Any, now: datetime) -> dict[str, Any]:
    return {
        "type": e.type, "reason": e.reason,
        "object": f"{e.involved_object.kind}/{e.involved_object.name}",
        "message": e.message, "count": e.count or 1,
        "last_seen": age(_last_seen(e), now), "last_seen_at": iso(_last_seen(e)),
    }


TOOLS = [k8s_events]
