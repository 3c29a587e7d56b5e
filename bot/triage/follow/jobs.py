"""Follow-up reads for Jobs and CronJobs: the CronJob an alert's query names (a backup too old, a run missing),
and a CronJob whose due run has not succeeded leads to its newest Jobs and their failed pods."""

from __future__ import annotations

import re

from bot.triage.results import Check, describe_pod, described, namespaces, ok
from tools.base import ToolResult

CRONJOB = re.compile(r'\bcronjob\s*=~?\s*"([a-z0-9][-a-z0-9.]*)"')
NAMESPACE = re.compile(r'\bnamespace\s*=\s*"([a-z0-9][-a-z0-9]*)"')
MAX_JOBS = 2


def _named(results: list[ToolResult]) -> list[Check]:
    """CronJobs the alert's query names: its series' `cronjob` labels, or a `cronjob="…"` matcher in it."""
    found: list[tuple[str, str]] = []
    for d in ok(results, "prom_query"):
        for s in d.get("series", []):
            labels = s.get("labels") or {}
            if labels.get("cronjob") and labels.get("namespace"):
                found.append((labels["namespace"], labels["cronjob"]))
        query = str(d.get("query") or "")
        ns = NAMESPACE.search(query)
        where = [ns.group(1)] if ns else namespaces(results)[:1]
        found += [(n, m.group(1)) for m in CRONJOB.finditer(query) for n in where]
    return [("k8s_describe", {"kind": "CronJob", "namespace": ns, "name": name})
            for ns, name in dict.fromkeys(found)][:2]


def reads(results: list[ToolResult]) -> list[Check]:
    checks = _named(results)
    for c in described(results, "CronJob"):
        if c.get("suspend") or c.get("status") in (None, "healthy"):
            continue
        for j in c.get("jobs", [])[:MAX_JOBS]:  # newest first
            checks.append(("k8s_describe", {"kind": "Job", "namespace": c["namespace"], "name": j["name"]}))
    for j in described(results, "Job"):
        failed = [p for p in j.get("pods", []) if p.get("status") not in ("Completed", "Running")]
        if failed:
            checks.append(describe_pod(j["namespace"], failed[-1]["name"]))
    return checks
