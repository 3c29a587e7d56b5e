"""What triage reads for an alert: the named object first, then what the object's state calls for.

`plan(alert, target)` is the first round: the object the alert names (described: a pod's containers, a Job's
failure, a node's conditions, a claim's class), its workload (pods, the deployment's image and revisions),
events, error logs and the alert's own expression. `follow_ups(results, done)` reads what those answers
point at, round after round until nothing new is called for: the first unhealthy pod of a workload, a failed
Job's pod, the previous logs of a container that restarted, a failing init container's logs, a claim that is
not bound, the node of a pod the node lost, the NetworkPolicies of a pod whose logs show DNS or egress
failing. Every read goes through the door; this module only decides which.
"""

from __future__ import annotations

import json
from typing import Any

from bot.intake.target import Target
from bot.triage.follow import autoscaling, cni, dependencies, identity, jobs, network, quota, scheduling, storage
from bot.triage.results import (
    LOG_TAIL,
    NETWORK_FAILURE,
    Check,
    describe_pod,
    described,
    failing_container,
    log_lines,
    ok,
)
from bot.triage.subject import Subject
from tools.base import ToolResult

# the neighbours' families, bot/triage/follow/
FOLLOW = (network.reads, dependencies.reads, cni.reads, jobs.reads, storage.reads, quota.reads, scheduling.reads,
          autoscaling.reads, identity.reads)

MAX_ROUNDS = 5
VOLUME_ARGS = ("limit", "tail_lines", "only_unhealthy", "since", "level")
# a pod's status, worst first: what stopped it before what slowed it
WORST_FIRST = ("CrashLoopBackOff", "Error", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "Init:",
               "CreateContainerConfigError", "Pending", "Unknown", "Terminating")


def key(check: Check) -> str:
    """The same read whatever its volume: a playbook step that differs only in limit or range is not redone."""
    tool, args = check
    return json.dumps([tool, {k: v for k, v in args.items() if k not in VOLUME_ARGS}], sort_keys=True)


def plan(alert: Subject, target: Target | None = None) -> list[Check]:
    target = target or alert.target
    ns = alert.namespace or target.namespace
    svc = target.deployment or (alert.service if target.kind in (None, "Deployment") else None)
    checks: list[Check] = []
    if target.kind not in (None, "Deployment") and (ns or target.kind in ("Node", "PersistentVolume")):
        scope = {} if target.kind in ("Node", "PersistentVolume") else {"namespace": ns}
        checks.append(("k8s_describe", {"kind": target.kind, "name": target.name, **scope}))
        if target.kind in ("Pod", "Job", "StatefulSet", "DaemonSet"):  # a workload's name reads its newest pod
            container = {"container": target.container} if target.container else {}
            checks.append(("k8s_pod_logs", {"namespace": ns, "pod": target.name, **container,
                                            "tail_lines": LOG_TAIL}))
    if ns:
        if svc or target.kind is None:
            checks.append(("k8s_list", {"namespace": ns, "deployment": svc} if svc
                           else {"namespace": ns, "only_unhealthy": True}))
        if svc:
            checks.append(("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": svc}))
        about = svc or target.name
        checks.append(("k8s_events", {"namespace": ns, **({"object_name": about} if about else {}), "limit": 10}))
        if svc and target.kind != "Pod":
            checks.append(("k8s_pod_logs", {"namespace": ns, "pod": svc, "tail_lines": LOG_TAIL}))
        checks.append(("logs_search", {"namespace": ns, **({"service": svc} if svc else {}),
                                       "level": "warn", "since": "last 30m", "limit": 10}))
    elif svc:
        checks.append(("logs_search", {"service": svc, "level": "warn", "since": "last 30m", "limit": 10}))
    if alert.expr:
        checks.append(("prom_query", {"query": alert.expr[:1000], "limit": 5}))
    return checks


def _rank(row: dict[str, Any]) -> int:
    status = str(row.get("status"))
    return next((i for i, s in enumerate(WORST_FIRST) if status.startswith(s)), len(WORST_FIRST))


def _first_pods(results: list[ToolResult]) -> list[Check]:
    """A workload's worst unhealthy pod, and a failed Job's newest pod: their containers say why."""
    if described(results, "Pod"):
        return []
    for d in ok(results, "k8s_list"):
        sick = sorted((p for p in d.get("pods", []) if not p.get("healthy")), key=_rank)
        if sick and (d.get("namespace") or sick[0].get("namespace")):
            return [describe_pod(d.get("namespace") or sick[0]["namespace"], sick[0]["name"])]
    for d in [*described(results, "Job"), *described(results, "StatefulSet"), *described(results, "DaemonSet")]:
        sick = [p for p in d.get("pods", []) if not p.get("healthy")]
        if sick:
            return [describe_pod(d["namespace"], sick[-1]["name"])]
    return []


def _pod_reads(d: dict[str, Any], network_trouble: bool) -> list[Check]:
    ns, name = d["namespace"], d["name"]
    out: list[Check] = []
    for c in [*d.get("init_containers", []), *d.get("containers", [])]:
        state = c.get("state") or {}
        if not failing_container(c):
            continue
        if c.get("restarts") and c.get("last_state"):
            out.append(("k8s_pod_logs", {"namespace": ns, "pod": name, "container": c["name"], "previous": True,
                                         "tail_lines": LOG_TAIL}))
        if c.get("init") or state.get("state") == "terminated":  # an init container's own words, or a Job's
            out.append(("k8s_pod_logs", {"namespace": ns, "pod": name, "container": c["name"],
                                         "tail_lines": LOG_TAIL}))
    for claim in d.get("claims", []):
        if claim.get("exists") and claim.get("status") != "Bound":
            out.append(("k8s_describe", {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim["claim"]}))
    if d.get("node") and d.get("status") in ("Unknown", "Terminating", "NodeLost", "Evicted"):
        out.append(("k8s_describe", {"kind": "Node", "name": d["node"]}))
    if network_trouble:
        out += [("k8s_describe", {"kind": "NetworkPolicy", "namespace": ns, "name": p["name"]})
                for p in d.get("network_policies", [])[:2]]
    return out


def follow_ups(results: list[ToolResult], done: set[str] | None = None) -> list[Check]:
    """The next round: what the answers so far point at and nobody has read yet."""
    done = done if done is not None else set()
    network_trouble = any(NETWORK_FAILURE.search(line) for line in log_lines(results))
    checks = _first_pods(results) + [c for follow in FOLLOW for c in follow(results)]
    for d in described(results, "Pod"):
        checks += _pod_reads(d, network_trouble)
    for d in described(results, "Node"):  # a sick node's failed pods: their events say what it did to them
        ready = next((c["status"] for c in d.get("conditions", []) if c.get("type") == "Ready"), "True")
        if ready != "True" or d.get("pressure"):
            checks += [describe_pod(*name.split("/", 1)) for name in d.get("failed_pods", [])[:2]]
        if (d.get("pods") or {}).get("at_limit"):  # the pods that wait for room, wherever they are
            checks.append(("k8s_list", {"kind": "Pod", "only_unhealthy": True}))
    for d in described(results, "StatefulSet"):
        if (d.get("replicas") or {}).get("ready", 0) >= (d.get("replicas") or {}).get("desired", 0):
            continue
        checks += [("k8s_describe", {"kind": "PersistentVolumeClaim", "namespace": d["namespace"],
                                     "name": f"{t['name']}-{d['name']}-0"})
                   for t in d.get("volume_claim_templates", [])]
    out, seen = [], set(done)
    for c in checks:
        if key(c) not in seen:
            seen.add(key(c))
            out.append(c)
    return out
