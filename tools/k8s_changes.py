"""What changed in a namespace (and in the cluster-scoped objects every namespace depends on) over a time range,
in time order: rollouts, scale events, autoscaler decisions, Jobs and CronJob runs, ConfigMaps and Secrets
created or modified (never their data), nodes added, cordoned or not ready. The rows come from
tools/k8s_change_rows.py; this module reads the API and assembles them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from tools.base import ClusterArgs, ToolInputError, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_api import Namespace, age, call, iso, require_namespace
from tools.k8s_change_rows import configuration, events, jobs, nodes, rollouts, scaled_by, template_writes
from tools.k8s_kinds import KINDS, plural
from tools.timerange import parse_point

EVENTS_KEPT = ("scale events and autoscaler decisions come from events, which the API server keeps about 1h; "
               "older ones show only as the workload's last replicas write")


class K8sChangesArgs(ClusterArgs):
    namespace: Namespace | None = Field(None, description="the namespace; omitted: every namespace. "
                                        "Cluster-scoped changes (nodes) are always included")
    since: str = Field("6h", max_length=64, description="how far back: '6h', '30m', 'since 10:00', an ISO time")
    limit: int = Field(50, ge=1, le=200, description="at most this many changes, the newest kept")


def _list(ctx: ToolContext, kind: str, ns: str | None, unreadable: list[str]) -> list[Any]:
    """Every object of a kind in the namespace (or all of them); one opsbot may not read is said, not hidden."""
    info = KINDS[kind]
    where = f" in {ns}" if ns else ""
    method = info.list_method if ns or not info.namespaced else info.list_all_method
    try:
        return call(ctx, f"the {plural(kind)}{where}", info.api, method, *((ns,) if ns and info.namespaced else ())
                    ).items
    except ToolInputError as e:  # 403: opsbot's RBAC does not grant it (Secrets are opt-in)
        unreadable.append(str(e))
        return []


def _events(ctx: ToolContext, ns: str | None, unreadable: list[str]) -> list[Any]:
    items = _list(ctx, "Event", ns, unreadable)
    if ns and ns != "default":  # cluster-scoped objects' events are kept in 'default'
        items += [e for e in _list(ctx, "Event", "default", unreadable) if e.involved_object.kind == "Node"]
    return items


def _who(rows: list[dict[str, Any]], writes: dict[tuple[str, str], tuple[datetime, str]]) -> None:
    """A scale row's author: the autoscaler when one rescaled to the same size in that minute, else the field
    manager of the workload's last replicas write when that write is this scale (within a minute)."""
    hpa = [r for r in rows if r["kind"] == "HorizontalPodAutoscaler" and "to" in r]
    for r in rows:
        if "to" not in r or "by" in r:
            continue
        write = writes.get((r["namespace"], r["name"]))
        if any(h["namespace"] == r["namespace"] and h["to"] == r["to"] and abs((h["at"] - r["at"]).total_seconds())
               <= 60 for h in hpa):
            r["by"] = "horizontal-pod-autoscaler"
        elif write and abs((write[0] - r["at"]).total_seconds()) <= 60:
            r["by"] = write[1]


@tool("kubernetes")
def k8s_changes(ctx: ToolContext, args: K8sChangesArgs) -> ToolResult:
    """What changed, oldest first: Deployment rollouts (image before → after, change-cause), scale events of
    every workload (from → to, by whom when known), autoscaler decisions, Jobs and CronJob runs started,
    completed or failed, ConfigMaps and Secrets created or modified (when and by which manager, never values),
    nodes added, cordoned or not ready (kubelet version). Use it to ask 'what changed before this broke?'."""
    ns = args.namespace
    if ns:
        require_namespace(ctx, ns)
    now = ctx.now()
    start = parse_point(args.since, now)
    if start >= now:
        raise ToolInputError(f"since {args.since!r} is not in the past; use e.g. '6h' or 'since 10:00'")
    unreadable: list[str] = []
    deployments = _list(ctx, "Deployment", ns, unreadable)
    workloads = [*deployments, *_list(ctx, "StatefulSet", ns, unreadable)]
    replicas_now = {(w.metadata.namespace, w.metadata.name): w.spec.replicas for w in workloads}
    rows = rollouts(_list(ctx, "ReplicaSet", ns, unreadable), start, template_writes(deployments))
    rows += events(_events(ctx, ns, unreadable), start, replicas_now, rows)
    writes = scaled_by(workloads, start)
    _who(rows, writes)
    said = {(r["namespace"], r["name"]) for r in rows if "to" in r}
    for (wns, name), (when, by) in writes.items():  # a scale whose events are gone: the write still says when
        if (wns, name) not in said:
            kind = next(w.kind or "Deployment" for w in workloads if (w.metadata.namespace, w.metadata.name)
                        == (wns, name))
            rows.append({"at": when, "kind": kind, "namespace": wns, "name": name, "by": by,
                         "what": f"replicas set, {replicas_now[(wns, name)]} now", "now": replicas_now[(wns, name)]})
    rows += jobs(_list(ctx, "Job", ns, unreadable), start)
    rows += configuration("ConfigMap", _list(ctx, "ConfigMap", ns, unreadable), start)
    rows += configuration("Secret", _list(ctx, "Secret", ns, unreadable), start)
    rows += nodes(_list(ctx, "Node", None, unreadable), start)
    invocation = k8s_changes.summary(args)
    where = f"namespace '{ns}' and the nodes" if ns else "the cluster"
    notes = [*dict.fromkeys(unreadable)]
    if not rows:
        return empty(k8s_changes.name, invocation, "; ".join([f"nothing changed in {where} since "
                                                             f"{iso(start)}", EVENTS_KEPT, *notes]))
    rows.sort(key=lambda r: r["at"])
    shown = rows[-args.limit:]
    out = [{"at": iso(r["at"]), "age": age(r["at"], now), "kind": r["kind"],
            "object": "/".join(x for x in (r["namespace"], r["name"]) if x), "what": r["what"],
            **{k: v for k, v in r.items() if k not in ("at", "kind", "namespace", "name", "what")}} for r in shown]
    if len(rows) > args.limit:
        notes.insert(0, f"showing the newest {args.limit} of {len(rows)} changes")
    data = {"namespace": ns, "since": iso(start), "until": iso(now), "total": len(rows), "changes": out}
    return ok(k8s_changes.name, invocation, data, "; ".join([*notes, EVENTS_KEPT]))


TOOLS = [k8s_changes]
