"""Deterministic evidence: the reads an engineer runs first for an alert, through the one door, and what
they show.

`ReadChecks` is the default `collect(alert, incident) -> Evidence` of triage: the reads of bot.triage.reads
(the named object, then what its state calls for), the diagnosis of bot.triage.diagnosis, and each result
summarised word for word. Every read runs through `Door.run` (audited, capped, policy-checked); a read whose
backend is down is listed under `could_not_run`, never hidden and never counted as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, Field

from bot.cards.model import EvidenceLine
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.intake.target import Target
from bot.triage.diagnosis import Diagnosis, diagnose
from bot.triage.locate import locate
from bot.triage.owners import resolve
from bot.triage.quotes import container_line, last_exit, telling
from bot.triage.reads import MAX_ROUNDS, follow_ups, key, plan
from bot.triage.results import failing_container
from bot.triage.subject import Subject
from tools.base import Status, ToolResult

TRIAGE_IDENTITY = "opsbot:triage"
MAX_LINES_PER_CHECK = 6


class Evidence(BaseModel):
    lines: list[EvidenceLine] = Field(default_factory=list)
    could_not_run: list[str] = Field(default_factory=list)
    results: list[ToolResult] = Field(default_factory=list, description="the raw results, for the analysis")
    diagnosis: Diagnosis | None = None
    target: Target | None = None


def _dedupe(lines: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        seen.setdefault(line, None)
    return list(seen)[:MAX_LINES_PER_CHECK]


def _listed(d: dict[str, Any]) -> list[str]:
    out = [d.get("summary", "")]
    for item in d.get("items", []):
        if not item.get("healthy"):
            facts = ", ".join(f"{k} {v}" for k, v in item.items() if k not in ("name", "healthy", "age") and v)
            out.append(f"{d.get('kind')}/{item['name']}: {facts}")
    for p in d.get("pods", []):
        if p.get("healthy"):
            continue
        line = f"{p['name']}: {p['status']}, ready {p.get('ready')}, restarts {p.get('restarts')}"
        if p.get("last_termination"):
            line += f", {last_exit(p['last_termination'])}"
        out.append(line)
    return out


def _deployment(d: dict[str, Any]) -> list[str]:
    r = d.get("replicas", {})
    out = [f"{d.get('namespace')}/{d.get('name')} runs {d.get('image')}: {r.get('available', '?')}/"
           f"{r.get('desired', '?')} available; rollout: {d.get('rollout')}"]
    revs = sorted(d.get("revisions", []), key=lambda x: x.get("revision", 0), reverse=True)
    if len(revs) >= 2:
        new, old = revs[0], revs[1]
        out.append(f"revision {new.get('revision')} ({new.get('image')}, {new.get('change_cause') or 'no cause'}) "
                   f"{new.get('age')} ago replaced revision {old.get('revision')} ({old.get('image')})")
    elif revs:
        out.append(f"revision {revs[0].get('revision')} ({revs[0].get('image')}) is {revs[0].get('age')} old; "
                   "no earlier revision to roll back to")
    return out


def _containers(d: dict[str, Any]) -> list[str]:
    """Each container of a described pod that is not running and ready: its state and last exit, word for word."""
    return [f"{d.get('name')} {container_line(c)}" for c in [*d.get("init_containers", []), *d.get("containers", [])]
            if failing_container(c) and (c.get("state") or c.get("last_state"))]


WANT_TRUE = {"Ready", "PodScheduled", "Available", "Progressing", "Initialized", "AbleToScale", "ScalingActive"}
WANT_FALSE = {"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable", "Failed", "ScalingLimited",
              "ReplicaFailure"}


def _conditions(d: dict[str, Any]) -> list[str]:
    """The conditions that say something is wrong, as the controller wrote them."""
    return [f"{c['type']} {c['status']} ({c.get('reason')}): {c.get('message')}" for c in d.get("conditions", [])
            if (c.get("type") in WANT_TRUE and c.get("status") != "True")
            or (c.get("type") in WANT_FALSE and c.get("status") == "True")]



def _ref_state(ref: dict[str, Any]) -> str | None:
    """What is wrong with a referenced ConfigMap or Secret, or None; unreadable is said, never taken as missing."""
    if ref.get("readable") is False:
        return ref.get("note") or "not readable"
    if not ref.get("exists"):
        return "missing"
    return "no such key" if ref.get("key_exists") is False else None

def _described(d: dict[str, Any]) -> list[str]:
    state = d.get("status") or d.get("verdict") or d.get("rollout")
    head = [*_deployment(d)] if d.get("kind") == "Deployment" else \
        [f"{d.get('kind')}/{d.get('name')}: {state}" if state else ""]
    if d.get("kind") == "Pod" and d.get("phase") == "Pending":
        head[0] += f" (image {', '.join(c['image'] for c in d.get('containers', []))})"
    if d.get("kind") == "Service":
        e = d.get("endpoints") or {}
        head.append(f"endpoints ready: {', '.join(e.get('ready', [])) or 'none'}; not ready: "
                    f"{', '.join(e.get('not_ready', [])) or 'none'}")
        head += _service(d)
    egress = [p["name"] for p in d.get("network_policies", []) if "Egress" in (p.get("policy_types") or [])]
    if egress:
        head.append(f"its egress is limited by NetworkPolicy {', '.join(egress)}")
    if d.get("message"):
        head.append(f"{d.get('reason') or d.get('status')}: {d['message']}")
    taints = [f"{t['key']}{'=' + t['value'] if t.get('value') else ''}:{t['effect']}" for t in d.get("taints", [])]
    if taints:
        head.append(f"taints: {', '.join(taints)}")
    if d.get("kind") == "Pod" and d.get("phase") == "Pending" and d.get("node_selector"):
        head.append("nodeSelector: " + ", ".join(f"{k}={v}" for k, v in d["node_selector"].items()))
    head += [f"{r['kind']} {r['name']}{' key ' + r['key'] if r.get('key') else ''} ({r['used_by']}): {state}"
             for r in d.get("config_refs", []) if (state := _ref_state(r))]
    if d.get("failed_pods"):
        head.append(f"failed pods on it: {', '.join(d['failed_pods'][:5])}")
    return [*head, *_conditions(d), *_containers(d), *_events(d)]


def _service(d: dict[str, Any]) -> list[str]:
    """A Service's selector against the pods (none matched: the nearest labels) and its port gaps."""
    if not d.get("selector"):
        return []
    terms = ",".join(f"{k}={v}" for k, v in sorted(d["selector"].items()))
    near = [f"{c['workload']} ({c['pods']} pods) has " + ",".join(f"{k}={v}" for k, v in sorted(c["labels"].items()))
            for c in d.get("closest") or []]
    return [f"selector {terms} matches {d.get('pods_matched', '?')} pod(s)" + (f"; closest: {'; '.join(near)}"
                                                                               if near else ""),
            *d.get("port_gaps", [])]


def _events(d: dict[str, Any]) -> list[str]:
    return [f"{e['type']} {e['reason']}: {e['message']} (×{e.get('count', 1)}, last {e.get('last_seen')} ago)"
            for e in d.get("events", [])]


def _pod_logs(d: dict[str, Any]) -> list[str]:
    lines = [str(x) for x in d.get("lines", [])]
    where = f"{d.get('pod')} {d.get('container')}" + (" (previous)" if d.get("previous") else "")
    return [f"{where}: {line}" for line in telling(lines, MAX_LINES_PER_CHECK)]


def _logs(d: dict[str, Any]) -> list[str]:
    return [f"{m.get('count')}× {m.get('level')} {m.get('service')}: {m.get('message')}"
            for m in d.get("by_message", [])] or [f"{h.get('level')} {h.get('message')}" for h in d.get("hits", [])]


def _prom(d: dict[str, Any]) -> list[str]:
    out = []
    for s in d.get("series", []):
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.get("labels", {}).items()))
        out.append(f"{d.get('query')} = {s.get('value')} {{{labels}}}")
    return out


def _changes(d: dict[str, Any]) -> list[str]:
    """The newest changes, oldest of them first: a Job's start is left out when its end is there too."""
    rows = d.get("changes", [])
    ended = {c["object"] for c in rows if c.get("kind") == "Job" and not c.get("what", "").startswith("started")}
    rows = [c for c in rows
            if not (c.get("kind") == "Job" and c["object"] in ended and c["what"].startswith("started"))]
    return [f"{c.get('age')} ago {c.get('kind')} {c.get('object')}: {c.get('what')}" for c in rows[-5:]]


SUMMARISERS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "k8s_list": _listed, "k8s_describe": _described, "k8s_events": _events, "k8s_changes": _changes,
    "k8s_pod_logs": _pod_logs, "logs_search": _logs, "prom_query": _prom,
}


def summarise(result: ToolResult) -> list[EvidenceLine]:
    """The evidence lines of one result; a check that failed gives none (it is listed as not run)."""
    check = result.invocation if len(result.invocation) <= 80 else result.invocation[:77] + "…"
    if result.status == Status.error:
        return []
    if result.status == Status.no_data:
        return [EvidenceLine(check=check, text=result.notice or "no data", status="no_data")]
    fn = SUMMARISERS.get(result.tool)
    texts = fn(result.data) if fn and isinstance(result.data, dict) else []
    texts = _dedupe([t for t in texts if t]) or [result.notice or "ok"]
    return [EvidenceLine(check=check, text=t) for t in texts]


def gather(door: Door, caller: Caller, alert: Subject, parallel: int = 6,
           lookups: list[ToolResult] | None = None) -> tuple[Target, list[ToolResult], set[str]]:
    """The alert's target (bot.triage.locate: its labels checked against the cluster, else its expression's
    series) through its owner chain, then reads.plan and its follow-ups, each round concurrent; also the keys
    (reads.key) of every read made. The reads that found the target are added to `lookups`."""
    lookups = lookups if lookups is not None else []
    target = resolve(door, caller, locate(door, caller, alert, lookups), lookups)
    checks = plan(alert, target)
    results: list[ToolResult] = []
    done: set[str] = set()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for _ in range(MAX_ROUNDS + 1):
            if not checks:
                break
            done |= {key(c) for c in checks}
            results += list(pool.map(lambda c: door.run(c[0], c[1], caller), checks))
            checks = follow_ups(results, done)
    return target, results, done


def evidence_of(alert: Subject, target: Target, results: list[ToolResult]) -> Evidence:
    """The diagnosis, its decisive lines first, then every result summarised; failed reads apart."""
    diagnosis = diagnose(alert, results, target=target)
    ev = Evidence(results=results, diagnosis=diagnosis, target=target)
    if diagnosis:
        ev.lines += [EvidenceLine(check="diagnosis", text=t) for t in [diagnosis.line(), *diagnosis.quotes]]
    for r in results:
        if r.status == Status.error:
            ev.could_not_run.append(f"{r.invocation}: {r.error}")
        else:
            ev.lines += summarise(r)
    return ev


class ReadChecks:
    """The default evidence collector: the alert's reads through the door, diagnosed and summarised."""

    def __init__(self, door: Door, parallel: int = 6):
        self.door, self.parallel = door, parallel

    def __call__(self, alert: Alert, incident: str | None = None) -> Evidence:
        caller = Caller(identity=TRIAGE_IDENTITY, via="triage", incident=incident, severity=alert.severity,
                        cluster=self.door.cluster_of(alert.labels))
        target, results, _ = gather(self.door, caller, alert, self.parallel)
        return evidence_of(alert, target, results)
