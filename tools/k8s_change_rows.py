"""What changed, one source at a time, as rows of `k8s_changes`: a Deployment's new revisions (from its
ReplicaSets), the controllers' scale and autoscaler events, Jobs and CronJob runs, ConfigMaps and Secrets
created or modified (when and by which field manager, from metadata; never their data), and nodes added,
cordoned or not ready.

A row is {"at": datetime, "kind", "namespace", "name", "what"} plus facts a reader may use (`from`, `to`,
`now` of a scale; `by`, the field manager). Each function takes the listed API objects and the window's start.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from tools.k8s_revisions import REVISION, changes, image_of, what_matters

CHANGE_CAUSE = "kubernetes.io/change-cause"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"  # the numbers a reused ReplicaSet had before
# the Deployment controller's words (pkg/controller/deployment/sync.go): "Scaled up replica set web-7d4b6 to 30
# from 4"; before Kubernetes 1.27 the message had no "from"
SCALED = re.compile(r"^Scaled (up|down) replica set (\S+) to (\d+)(?: from (\d+))?")
NEW_SIZE = re.compile(r"^New size: (\d+); reason: (.*)$")  # the HPA controller's SuccessfulRescale
NODE_REASONS = {"NodeNotReady": "not ready", "NodeReady": "ready again", "NodeNotSchedulable": "cordoned",
                "NodeSchedulable": "uncordoned", "RegisteredNode": "registered", "Rebooted": "rebooted",
                "Starting": "kubelet started"}
ROLLOUT_STEPS = timedelta(minutes=15)  # a rollout's own ScalingReplicaSet steps follow its new ReplicaSet


def row(at: datetime | None, kind: str, ns: str | None, name: str, what: str, **facts: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "namespace": ns, "name": name, "what": what,
            **{k: v for k, v in facts.items() if v is not None}}


def _owner(obj: Any, kind: str) -> str | None:
    return next((r.name for r in obj.metadata.owner_references or [] if r.kind == kind), None)


def _revision(rs: Any) -> int:
    text = (rs.metadata.annotations or {}).get(REVISION, "0")
    return int(text) if text.isdigit() else 0


def template_writes(deployments: list[Any]) -> dict[tuple[str, str], Any]:
    """(namespace, name) → the managedFields entry of the last write of a Deployment's pod template."""
    out = {}
    for d in deployments:
        writes = [m for m in d.metadata.managed_fields or [] if m.time and m.subresource is None
                  and "f:template" in _fields(m)]
        if writes:
            out[(d.metadata.namespace, d.metadata.name)] = max(writes, key=lambda m: m.time)
    return out


def rollouts(replica_sets: list[Any], start: datetime,
             writes: dict[tuple[str, str], Any] | None = None) -> list[dict[str, Any]]:
    """Each Deployment revision made in the window: image(s) before → after, else what the template changed,
    and its change-cause. A rollback reuses an old ReplicaSet (it carries a revision-history): its time is the
    Deployment's last template write (managedFields), and that write's manager is who made it."""
    by_deploy: dict[tuple[str, str], list[Any]] = {}
    for rs in replica_sets:
        if (owner := _owner(rs, "Deployment")) is not None:
            by_deploy.setdefault((rs.metadata.namespace, owner), []).append(rs)
    out = []
    for (ns, name), sets in by_deploy.items():
        sets.sort(key=_revision)
        for before, after in zip(sets, sets[1:]):
            made, by = after.metadata.creation_timestamp, None
            write = (writes or {}).get((ns, name)) if after is sets[-1] else None
            reused = REVISION_HISTORY in (after.metadata.annotations or {})
            if write is not None and made is not None and (reused or abs((write.time - made).total_seconds()) <= 60):
                made, by = (write.time if reused else made), write.manager
            elif reused:
                continue  # a rollback whose time the API no longer says
            if made is None or made < start:
                continue
            was, now = image_of(before.spec.template), image_of(after.spec.template)
            if was != now:
                what = f"rollout to revision {_revision(after)}: {was} → {now}"
            else:
                diff = changes(what_matters(before.spec.template), what_matters(after.spec.template))
                what = f"rollout to revision {_revision(after)}: " + ("; ".join(diff[:3]) if diff
                                                                     else f"restart, same template ({now})")
            cause = (after.metadata.annotations or {}).get(CHANGE_CAUSE)
            back = f" (a rollback: replica set {after.metadata.name} again)" if reused else ""
            out.append(row(made, "Deployment", ns, name, what + back + (f" (change-cause: {cause})" if cause else ""),
                           revision=_revision(after), replica_set=after.metadata.name, by=by))
    return out


def _seen(e: Any) -> datetime | None:
    return e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp


def events(items: list[Any], start: datetime, replicas_now: dict[tuple[str, str], int],
           rollout_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scale events of Deployments (not a rollout's own steps), HPA decisions and nodes' transitions."""
    began = {(r["namespace"], r["name"]): r["at"] for r in rollout_rows}
    out = []
    for e in items:
        at, obj = _seen(e), e.involved_object
        if at is None or at < start:
            continue
        ns = obj.namespace or e.metadata.namespace
        if e.reason == "ScalingReplicaSet" and (m := SCALED.match(e.message or "")):
            rolled = began.get((ns, obj.name))
            if rolled is not None and rolled - timedelta(minutes=1) <= at <= rolled + ROLLOUT_STEPS:
                continue  # a rollout's step, already said by its row
            to, was = int(m.group(3)), int(m.group(4)) if m.group(4) else None
            what = f"scaled {m.group(1)} {was} → {to}" if was is not None else f"scaled {m.group(1)} to {to}"
            out.append(row(at, obj.kind, ns, obj.name, f"{what} (replica set {m.group(2)})", to=to,
                           **{"from": was, "now": replicas_now.get((ns, obj.name))}))
        elif e.reason == "SuccessfulRescale" and (m := NEW_SIZE.match(e.message or "")):
            out.append(row(at, obj.kind, ns, obj.name, f"autoscaler rescaled to {m.group(1)}: {m.group(2)}",
                           to=int(m.group(1)), by="horizontal-pod-autoscaler"))
        elif obj.kind == "Node" and e.reason in NODE_REASONS:
            out.append(row(at, "Node", None, obj.name, f"{NODE_REASONS[e.reason]}: {e.message}"))
    return out


def _fields(entry: Any) -> str:
    return str(entry.fields_v1 or "")


def managed(obj: Any) -> tuple[datetime | None, str | None]:
    """When an object was last written, and by which field manager (metadata.managedFields; else its creation).
    A status-only write is not a change of the object."""
    entries = [m for m in obj.metadata.managed_fields or [] if m.time and m.subresource != "status"]
    last = max(entries, key=lambda m: m.time, default=None)
    return (last.time, last.manager) if last else (obj.metadata.creation_timestamp, None)


def configuration(kind: str, items: list[Any], start: datetime) -> list[dict[str, Any]]:
    """ConfigMaps or Secrets created or modified in the window: names, times and managers only."""
    out = []
    for obj in items:
        created = obj.metadata.creation_timestamp
        when, by = managed(obj)
        ns, name = obj.metadata.namespace, obj.metadata.name
        if when is not None and when >= start and created is not None and when - created > timedelta(seconds=1):
            made = created.strftime("%Y-%m-%d %H:%M")
            out.append(row(when, kind, ns, name, f"modified{f' by {by}' if by else ''} (created {made} UTC)", by=by))
        elif created is not None and created >= start:
            out.append(row(created, kind, ns, name, "created", by=by))
    return out


def scaled_by(workloads: list[Any], start: datetime) -> dict[tuple[str, str], tuple[datetime, str]]:
    """(namespace, name) → (when, manager) of the last write of a workload's replicas (managedFields)."""
    out = {}
    for w in workloads:
        writes = [m for m in w.metadata.managed_fields or [] if m.time and m.time >= start
                  and (m.subresource == "scale" or "f:replicas" in _fields(m))]
        if writes:
            last = max(writes, key=lambda m: m.time)
            out[(w.metadata.namespace, w.metadata.name)] = (last.time, last.manager)
    return out


def jobs(items: list[Any], start: datetime) -> list[dict[str, Any]]:
    """Jobs started, completed or failed in the window; a CronJob's Job says whose run it is."""
    out = []
    for j in items:
        ns, name, status = j.metadata.namespace, j.metadata.name, j.status
        cron = _owner(j, "CronJob")
        of = f" (run of CronJob {cron})" if cron else ""
        if status is None:
            continue
        if status.start_time and status.start_time >= start:
            out.append(row(status.start_time, "Job", ns, name, f"started{of}", cronjob=cron))
        if status.completion_time and status.completion_time >= start:
            out.append(row(status.completion_time, "Job", ns, name, f"completed, {status.succeeded or 0} "
                           f"succeeded{of}", cronjob=cron))
        for c in status.conditions or []:
            if c.type == "Failed" and c.status == "True" and c.last_transition_time and \
                    c.last_transition_time >= start:
                out.append(row(c.last_transition_time, "Job", ns, name, f"failed: {c.reason}: {c.message}{of}",
                               cronjob=cron))
    return out


def nodes(items: list[Any], start: datetime) -> list[dict[str, Any]]:
    """Nodes added, cordoned (when the taint says when) or not ready in the window, with their kubelet."""
    out = []
    for n in items:
        name = n.metadata.name
        info = n.status.node_info if n.status else None
        kubelet = f"kubelet {info.kubelet_version}" if info else "kubelet unknown"
        if n.metadata.creation_timestamp and n.metadata.creation_timestamp >= start:
            out.append(row(n.metadata.creation_timestamp, "Node", None, name, f"added ({kubelet})"))
        if n.spec and n.spec.unschedulable:
            taint = next((t for t in n.spec.taints or [] if t.key == "node.kubernetes.io/unschedulable"), None)
            when = taint.time_added if taint and taint.time_added else managed(n)[0]
            if when and when >= start:
                out.append(row(when, "Node", None, name, f"cordoned ({kubelet})"))
        ready = next((c for c in (n.status.conditions if n.status else None) or [] if c.type == "Ready"), None)
        if ready and ready.status != "True" and ready.last_transition_time and ready.last_transition_time >= start:
            out.append(row(ready.last_transition_time, "Node", None, name,
                           f"not ready: {ready.reason}: {ready.message} ({kubelet})"))
    return out
