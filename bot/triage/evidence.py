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
from tools.base import Status, ToolResult

TRIAGE_IDENTITY = "opsbot:triage"
MAX_LINES_PER_CHECK = 4


class Evidence(BaseModel):
    lines: list[EvidenceLine] = Field(default_factory=list)
    could_not_run: list[str] = Field(default_factory=list)
    results: list[ToolResult] = Field(default_factory=list, description="the raw results, for the analysis")


Check = tuple[str, dict[str, Any]]


def plan(alert: Alert) -> list[Check]:
    """Pods, the deployment (image, recent revisions), events, last log lines, error logs, the alert's metric."""
    ns, svc = alert.namespace, alert.service
    checks: list[Check] = []
    if ns:
        checks.append(("k8s_list", {"namespace": ns, "deployment": svc} if svc
                       else {"namespace": ns, "only_unhealthy": True}))
        if svc:
            checks.append(("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": svc}))
        checks.append(("k8s_events", {"namespace": ns, **({"object_name": svc} if svc else {}), "limit": 10}))
        if svc:
            checks.append(("k8s_pod_logs", {"namespace": ns, "pod": svc, "tail_lines": 10}))
    if ns or svc:
        checks.append(("logs_search", {**({"namespace": ns} if ns else {}), **({"service": svc} if svc else {}),
                                       "level": "warn", "since": "last 30m", "limit": 10}))
    if alert.expr:
        checks.append(("prom_query", {"query": alert.expr[:1000], "limit": 5}))
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
        t = p.get("last_termination")
        if t:
            line += f", last exit {t.get('exit_code')} ({t.get('reason')}" + (
                f": {t['message']}" if t.get("message") else "") + ")"
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
    return out


def _described(d: dict[str, Any]) -> list[str]:
    if d.get("kind") == "Deployment":
        return _deployment(d)
    state = d.get("status") or d.get("verdict") or d.get("rollout")
    return [f"{d.get('kind')}/{d.get('name')}: {state}" if state else "", *_events(d)]


def _events(d: dict[str, Any]) -> list[str]:
    return [f"{e['type']} {e['reason']}: {e['message']} (×{e.get('count', 1)}, last {e.get('last_seen')} ago)"
            for e in d.get("events", [])]


def _pod_logs(d: dict[str, Any]) -> list[str]:
    lines = [str(x) for x in d.get("lines", [])]
    return [f"{d.get('pod')}: {line}" for line in lines[-MAX_LINES_PER_CHECK:]]


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
    check = result.invocation if len(result.invocation) <= 80 else result.invocation[:77] + "…"
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
        checks = plan(alert)
        if not checks:
            return Evidence()
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(checks))) as pool:
            results = list(pool.map(lambda c: self.door.run(c[0], c[1], caller), checks))
        ev = Evidence(results=results)
        for r in results:
            if r.status == Status.error:
                ev.could_not_run.append(f"{r.invocation}: {r.error}")
            else:
                ev.lines += summarise(r)
        return ev
