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
import re
from collections.abc import Iterator
from typing import Any

from bot.intake.target import Target
from bot.triage.subject import Subject
from tools.base import Status, ToolResult

Check = tuple[str, dict[str, Any]]
LOG_TAIL = 40
MAX_ROUNDS = 5
CERTIFICATE = re.compile(r"(?i)(certificate has expired|certificate expired|x509: certificate|"
                         r"certificate verify failed|ssl.*expired)")
DEPENDENCY = re.compile(r"(?i)(connection refused|connect: connection|no response|not responding|timed out|"
                        r"timeout expired|i/o timeout|"
                        r"deadline exceeded|statement timeout|could not connect|unreachable|no route to host|"
                        r"all host\(s\) tried|connection reset|too many connections|unavailable)")
# a Service's DNS name (name.namespace[.svc…]) or an address:port in a failing call: the dependency to read;
# only names of Services that exist are read, so a word that looks like one costs nothing
SERVICE_HOST = re.compile(r"\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\b")
ADDRESS = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}):(?!53\b)\d{2,5}\b")  # not the DNS server
# a pod's own logs saying it cannot reach a name or an address: the network path is worth reading
NETWORK_FAILURE = re.compile(r"(?i)(no such host|name resolution|could not resolve|lookup \S+ on \S+:53|"
                             r":53: i/o timeout|dial (tcp|udp) \S+: (i/o timeout|connect: connection refused)|"
                             r"connection timed out|network is unreachable)")


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


def _ok(results: list[ToolResult], tool: str) -> Iterator[dict[str, Any]]:
    for r in results:
        if r.tool == tool and r.status == Status.success and isinstance(r.data, dict):
            yield r.data


def described(results: list[ToolResult], kind: str) -> list[dict[str, Any]]:
    return [d for d in _ok(results, "k8s_describe") if d.get("kind") == kind]


def log_lines(results: list[ToolResult]) -> list[str]:
    """Every log line read: pods' own logs and the search's grouped messages."""
    lines = [str(x) for d in _ok(results, "k8s_pod_logs") for x in d.get("lines", [])]
    return lines + [str(m.get("message")) for d in _ok(results, "logs_search") for m in d.get("by_message", [])]


def failing_container(c: dict[str, Any]) -> bool:
    """Not running and ready (an init container that completed is done), or killed at its memory limit and up
    again for now."""
    state, last = c.get("state") or {}, c.get("last_state") or {}
    if c.get("init") and state.get("reason") == "Completed":
        return False
    return not c.get("ready") or last.get("reason") == "OOMKilled"


def _describe_pod(ns: str, name: str) -> Check:
    return "k8s_describe", {"kind": "Pod", "namespace": ns, "name": name}


def _rank(row: dict[str, Any]) -> int:
    status = str(row.get("status"))
    return next((i for i, s in enumerate(WORST_FIRST) if status.startswith(s)), len(WORST_FIRST))


def _first_pods(results: list[ToolResult]) -> list[Check]:
    """A workload's worst unhealthy pod, and a failed Job's newest pod: their containers say why."""
    if described(results, "Pod"):
        return []
    for d in _ok(results, "k8s_list"):
        sick = sorted((p for p in d.get("pods", []) if not p.get("healthy")), key=_rank)
        if sick and (d.get("namespace") or sick[0].get("namespace")):
            return [_describe_pod(d.get("namespace") or sick[0]["namespace"], sick[0]["name"])]
    for d in [*described(results, "Job"), *described(results, "StatefulSet"), *described(results, "DaemonSet")]:
        sick = [p for p in d.get("pods", []) if not p.get("healthy")]
        if sick:
            return [_describe_pod(d["namespace"], sick[-1]["name"])]
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


def _namespaces(results: list[ToolResult]) -> list[str]:
    found = [d.get("namespace") for tool in ("k8s_describe", "k8s_list", "k8s_events") for d in _ok(results, tool)]
    return list(dict.fromkeys(ns for ns in found if ns))


def _network_reads(results: list[ToolResult]) -> list[Check]:
    """A pod's logs say it cannot reach a name or an address: the NetworkPolicies of its namespace."""
    if not any(NETWORK_FAILURE.search(line) for line in log_lines(results)):
        return []
    listed = [(d["namespace"], item["name"]) for d in _ok(results, "k8s_list") if d.get("kind") == "NetworkPolicy"
              for item in d.get("items", [])[:3]]
    return [("k8s_list", {"kind": "NetworkPolicy", "namespace": ns}) for ns in _namespaces(results)[:1]] + \
        [("k8s_describe", {"kind": "NetworkPolicy", "namespace": ns, "name": name}) for ns, name in listed]


def _endpoint_pods(d: dict[str, Any]) -> tuple[list[str], list[str]]:
    e = d.get("endpoints") or {}
    return ([x.split(" ")[0] for x in e.get("ready", [])], [x.split(" ")[0] for x in e.get("not_ready", [])])


def _dependency_reads(results: list[ToolResult]) -> list[Check]:
    """Failing calls to something else: one of the caller's pods (its env names where it connects), every
    Service, and those the calls or the env name (name.namespace, a bare name in the pod's namespace, a
    ClusterIP); then each such Service's pod that is not ready (or, all ready, one of them) and its logs."""
    lines = [x for x in log_lines(results) if DEPENDENCY.search(x) or CERTIFICATE.search(x)]
    if not lines:
        return []
    checks: list[Check] = [("k8s_list", {"kind": "Service"})]
    if not described(results, "Pod"):
        checks += [_describe_pod(d["namespace"], d["pods"][0]["name"]) for d in _ok(results, "k8s_list")
                   if d.get("kind") == "Pod" and d.get("namespace") and d.get("pods")][:1]
    hosts = {(m.group(2), m.group(1)) for x in lines for m in SERVICE_HOST.finditer(x)}
    for p in described(results, "Pod"):
        for h in (h for c in p.get("containers", []) for h in c.get("env_hosts", [])):
            name, _, ns = h.partition(".")
            hosts.add((ns.split(".")[0] or p["namespace"], name))
    ips = {m.group(1) for x in lines for m in ADDRESS.finditer(x)}
    services = [item for d in _ok(results, "k8s_list") if d.get("kind") == "Service" and not d.get("namespace")
                for item in d.get("items", [])]
    checks += [("k8s_describe", {"kind": "Service", "namespace": s["namespace"], "name": s["name"]})
               for s in services if (s["namespace"], s["name"]) in hosts or s.get("cluster_ip") in ips][:3]
    for d in described(results, "Service"):
        ready, not_ready = _endpoint_pods(d)
        for pod in (not_ready or ready)[:1]:
            checks.append(_describe_pod(d["namespace"], pod))
            checks.append(("k8s_pod_logs", {"namespace": d["namespace"], "pod": pod, "tail_lines": LOG_TAIL}))
    return checks


def dependency_pods(results: list[ToolResult]) -> set[str]:
    """The pods behind the Services a failing call named: someone else's, not the alert's."""
    return {pod for d in described(results, "Service") for pods in _endpoint_pods(d) for pod in pods}


def follow_ups(results: list[ToolResult], done: set[str] | None = None) -> list[Check]:
    """The next round: what the answers so far point at and nobody has read yet."""
    done = done if done is not None else set()
    network_trouble = any(NETWORK_FAILURE.search(line) for line in log_lines(results))
    checks = _first_pods(results) + _network_reads(results) + _dependency_reads(results)
    for d in described(results, "Pod"):
        checks += _pod_reads(d, network_trouble)
    for d in described(results, "Node"):  # a sick node's failed pods: their events say what it did to them
        ready = next((c["status"] for c in d.get("conditions", []) if c.get("type") == "Ready"), "True")
        if ready != "True" or d.get("pressure"):
            checks += [_describe_pod(*name.split("/", 1)) for name in d.get("failed_pods", [])[:2]]
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
