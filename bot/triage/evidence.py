"""Deterministic evidence: the read checks an engineer runs first for an alert, through the one door.

`ReadChecks` is the default `collect(alert, incident) -> Evidence` of triage; knowledge/troubleshoot.py
(a playbook's diagnosis steps) plugs into the same seam. Every check runs through `Door.run` (audited,
capped, policy-checked); a check whose backend is down is listed under `could_not_run`, never hidden.
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
from bot.triage.owners import resolve
from tools.base import Status, ToolResult

TRIAGE_IDENTITY = "opsbot:triage"
MAX_LINES_PER_CHECK = 4


class Evidence(BaseModel):
    lines: list[EvidenceLine] = Field(default_factory=list)
    could_not_run: list[str] = Field(default_factory=list)
    results: list[ToolResult] = Field(default_factory=list, description="the raw results, for the analysis")


Check = tuple[str, dict[str, Any]]


def plan(alert: Alert, target: Target | None = None) -> list[Check]:
    """The object the alert names (described: a pod's containers, a Job's failure, a node's conditions; a pod's
    logs), its workload (pods, the deployment's image and revisions), events, error logs, the alert's metric."""
    target = target or alert.target
    ns = alert.namespace or target.namespace
    svc = target.deployment or (alert.service if target.kind in (None, "Deployment") else None)
    checks: list[Check] = []
    if target.kind not in (None, "Deployment") and (ns or target.kind == "Node"):
        scope = {} if target.kind == "Node" else {"namespace": ns}
        checks.append(("k8s_describe", {"kind": target.kind, "name": target.name, **scope}))
        if target.kind in ("Pod", "Job", "StatefulSet", "DaemonSet"):  # a workload's name reads its newest pod
            container = {"container": target.container} if target.container else {}
            checks.append(("k8s_pod_logs", {"namespace": ns, "pod": target.name, **container, "tail_lines": 10}))
    if ns:
        if svc or target.kind is None:
            checks.append(("k8s_list", {"namespace": ns, "deployment": svc} if svc
                           else {"namespace": ns, "only_unhealthy": True}))
        if svc:
            checks.append(("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": svc}))
        about = svc or target.name
        checks.append(("k8s_events", {"namespace": ns, **({"object_name": about} if about else {}), "limit": 10}))
        if svc and target.kind != "Pod":
            checks.append(("k8s_pod_logs", {"namespace": ns, "pod": svc, "tail_lines": 10}))
        checks.append(("logs_search", {"namespace": ns, **({"service": svc} if svc else {}),
                                       "level": "warn", "since": "last 30m", "limit": 10}))
    elif svc:
        checks.append(("logs_search", {"service": svc, "level": "warn", "since": "last 30m", "limit": 10}))
    if alert.expr:
        checks.append(("prom_query", {"query": alert.expr[:1000], "limit": 5}))
    return checks


def follow_ups(results: list[ToolResult]) -> list[Check]:
    """What the described pods show calls for: the previous logs of each container that restarted and is not
    ready (init containers too), where the reason it last exited is written."""
    checks: list[Check] = []
    for r in results:
        d = r.data if r.tool == "k8s_describe" and r.status == Status.success and isinstance(r.data, dict) else {}
        if d.get("kind") != "Pod":
            continue
        for c in [*d.get("init_containers", []), *d.get("containers", [])]:
            if not c.get("ready") and c.get("restarts") and c.get("last_state"):
                checks.append(("k8s_pod_logs", {"namespace": d["namespace"], "pod": d["name"],
                                                "container": c["name"], "previous": True, "tail_lines": 10}))
    return checks


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
        line = f"{p['status']}, ready {p.get('ready')}, restarts {p.get('restarts')}"
        if p.get("last_termination"):
            line += f", {_last_exit(p['last_termination'])}"
        out.append(line)
    return out


def _last_exit(t: dict[str, Any]) -> str:
    """'last exit 1 (Error: config error: …)': the code, the reason and the message as the kubelet wrote them."""
    message = f": {t['message']}" if t.get("message") else ""
    return f"last exit {t.get('exit_code')} ({t.get('reason')}{message})"


def _deployment(d: dict[str, Any]) -> list[str]:
    r = d.get("replicas", {})
    out = [f"{d.get('namespace')}/{d.get('name')} runs {d.get('image')}: {r.get('available', '?')}/"
           f"{r.get('desired', '?')} available; rollout: {d.get('rollout')}"]
    revs = sorted(d.get("revisions", []), key=lambda x: x.get("revision", 0), reverse=True)
    if len(revs) >= 2:
        new, old = revs[0], revs[1]
        out.append(f"revision {new.get('revision')} ({new.get('image')}, {new.get('change_cause') or 'no cause'}) "
                   f"{new.get('age')} ago replaced revision {old.get('revision')} ({old.get('image')})")
    return out


def _containers(d: dict[str, Any]) -> list[str]:
    """Each container of a described pod that is not running and ready: its state and last exit, word for word."""
    out = []
    for c in [*d.get("init_containers", []), *d.get("containers", [])]:
        state, last = c.get("state") or {}, c.get("last_state") or {}
        if c.get("ready") or (c.get("init") and state.get("reason") == "Completed"):
            continue
        line = f"{d.get('name')} {c['name']}: {state.get('reason') or state.get('state')}"
        if state.get("message"):
            line += f": {state['message']}"
        if last:
            line += f"; {_last_exit(last)}"
        out.append(line)
    return out


def _described(d: dict[str, Any]) -> list[str]:
    if d.get("kind") == "Deployment":
        return _deployment(d)
    state = d.get("status") or d.get("verdict") or d.get("rollout")
    pending = [c["message"] for c in d.get("conditions", []) if c.get("status") == "False" and c.get("message")
               and c.get("type") in ("PodScheduled", "Failed")]
    failed = [f"{c['reason']}: {c['message']}" for c in d.get("conditions", [])
              if c.get("type") == "Failed" and c.get("status") == "True"]
    return [f"{d.get('kind')}/{d.get('name')}: {state}" if state else "", *failed, *pending, *_containers(d),
            *_events(d)]


def _events(d: dict[str, Any]) -> list[str]:
    return [f"{e['type']} {e['reason']}: {e['message']} (×{e.get('count', 1)}, last {e.get('last_seen')} ago)"
            for e in d.get("events", [])]


def _pod_logs(d: dict[str, Any]) -> list[str]:
    lines = [str(x) for x in d.get("lines", [])]
    where = f"{d.get('pod')} {d.get('container')}" + (" (previous)" if d.get("previous") else "")
    return [f"{where}: {line}" for line in lines[-MAX_LINES_PER_CHECK:]]


def _logs(d: dict[str, Any]) -> list[str]:
    return [f"{m.get('count')}× {m.get('level')} {m.get('service')}: {m.get('message')}"
            for m in d.get("by_message", [])] or [f"{h.get('level')} {h.get('message')}" for h in d.get("hits", [])]


def _prom(d: dict[str, Any]) -> list[str]:
    out = []
    for s in d.get("series", []):
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.get("labels", {}).items()))
        out.append(f"{d.get('query')} = {s.get('value')} {{{labels}}}")
    return out


SUMMARISERS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "k8s_list": _listed, "k8s_describe": _described, "k8s_events": _events,
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


class ReadChecks:
    """The default evidence collector: `plan(alert)` run concurrently through the door."""

    def __init__(self, door: Door, parallel: int = 6):
        self.door, self.parallel = door, parallel

    def __call__(self, alert: Alert, incident: str | None = None) -> Evidence:
        caller = Caller(identity=TRIAGE_IDENTITY, via="triage", incident=incident, severity=alert.severity)
        checks = plan(alert, resolve(self.door, caller, alert.target))
        if not checks:
            return Evidence()
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(checks))) as pool:
            results = list(pool.map(lambda c: self.door.run(c[0], c[1], caller), checks))
            more = follow_ups(results)
            results += list(pool.map(lambda c: self.door.run(c[0], c[1], caller), more))
        ev = Evidence(results=results)
        for r in results:
            if r.status == Status.error:
                ev.could_not_run.append(f"{r.invocation}: {r.error}")
            else:
                ev.lines += summarise(r)
        return ev
