"""Workloads and rollouts: a rollout stalled halfway, its new revision's pods failing beside the old revision's
pods that still serve; a Deployment whose rollout exceeded its progress deadline."""

from __future__ import annotations

from typing import Any

from bot.triage.quotes import events, pod_logs, state_text, telling
from bot.triage.results import described, failing_container
from bot.triage.rules.base import Diagnosis, Reader


def stalled(r: Reader) -> dict[str, Any] | None:
    """The deployment whose rollout exceeded its progress deadline, if any."""
    return next((d for d in r.deployments if any(c.get("reason") == "ProgressDeadlineExceeded"
                                                  for c in d.get("conditions", []))), None)


def _failure(r: Reader, p: dict[str, Any]) -> tuple[str, list[str]] | None:
    """How a pod of the new revision fails: its failing container's state (with its telling lines), or the
    probe the kubelet reports failing."""
    for c in p.get("containers", []):
        if failing_container(c) and (c.get("restarts") or (c.get("state") or {}).get("state") != "running"):
            lines = [f"{p['name']} {c['name']}: {x}" for x in telling(pod_logs(r.results, p["name"], c["name"]), 3)]
            return f"container {c['name']} {state_text(c)}", lines
    probes = events(p, "Unhealthy")
    return (probes[0], probes[1:2]) if probes else None


def split(r: Reader) -> Diagnosis | None:
    """A rollout halfway: pods of the live revision fail while pods of an earlier one still serve."""
    for d in r.deployments:
        rows = d.get("revisions", [])
        new = next((x for x in rows if x.get("live")), None)
        old = [x for x in rows if not x.get("live") and x.get("pods")]
        if new is None or not new.get("pods") or not old:
            continue
        mine = [p for p in described(r.results, "Pod") if p.get("namespace") == d["namespace"]
                and f"ReplicaSet/{new['replica_set']}" in (p.get("controlled_by") or [])]
        failure = next((f for p in mine if (f := _failure(r, p))), None)
        ready = (d.get("replicas") or {}).get("ready", 0)
        if failure is None or not ready:
            continue
        was = ", ".join(sorted({x["image"] for x in old}))
        summary = (f"{new['pods']} of {new['pods'] + sum(x['pods'] for x in old)} pods run {new['image']} "
                   f"(revision {new['revision']}) and fail: {failure[0]}; {ready} pods of {was} still serve")
        return r.make("failed-rollout", f"Deployment {d['namespace']}/{d['name']}", summary,
                      [*failure[1], d.get("rollout", "")],
                      f"fix what the new revision's pods report, then roll out again; until then {ready} old "
                      "pods carry all the traffic", workload=f"Deployment {d['namespace']}/{d['name']}")
    return None


def rollout(r: Reader) -> Diagnosis | None:
    d = stalled(r)
    if d is None:
        return None
    deadline = next(c for c in d["conditions"] if c.get("reason") == "ProgressDeadlineExceeded")
    return r.make("failed-rollout", f"Deployment {d['namespace']}/{d['name']}",
                  f"ProgressDeadlineExceeded: {deadline.get('message')}", [],
                  "fix the new revision's pods (their events and logs), then roll out again")
