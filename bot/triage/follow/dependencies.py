"""Follow-up reads for dependencies: failing calls to something else lead to the Services they name and the
pods behind them."""

from __future__ import annotations

from bot.triage.results import (
    ADDRESS,
    CERTIFICATE,
    DEPENDENCY,
    SERVICE_HOST,
    Check,
    describe_pod,
    described,
    log_lines,
    ok,
    pods_behind,
)
from tools.base import ToolResult


def reads(results: list[ToolResult]) -> list[Check]:
    """Failing calls to something else: one of the caller's pods (its env names where it connects), every
    Service, and those the calls or the env name (name.namespace, a bare name in the pod's namespace, a
    ClusterIP); then each such Service's pod that is not ready (or, all ready, one of them) and its logs."""
    lines = [x for x in log_lines(results) if DEPENDENCY.search(x) or CERTIFICATE.search(x)]
    if not lines:
        return []
    checks: list[Check] = [("k8s_list", {"kind": "Service"})]
    if not described(results, "Pod"):
        checks += [describe_pod(d["namespace"], d["pods"][0]["name"]) for d in ok(results, "k8s_list")
                   if d.get("kind") == "Pod" and d.get("namespace") and d.get("pods")][:1]
    hosts = {(m.group(2), m.group(1)) for x in lines for m in SERVICE_HOST.finditer(x)}
    for p in described(results, "Pod"):
        for h in (h for c in p.get("containers", []) for h in c.get("env_hosts", [])):
            name, _, ns = h.partition(".")
            hosts.add((ns.split(".")[0] or p["namespace"], name))
    ips = {m.group(1) for x in lines for m in ADDRESS.finditer(x)}
    services = [item for d in ok(results, "k8s_list") if d.get("kind") == "Service" and not d.get("namespace")
                for item in d.get("items", [])]
    checks += [("k8s_describe", {"kind": "Service", "namespace": s["namespace"], "name": s["name"]})
               for s in services if (s["namespace"], s["name"]) in hosts or s.get("cluster_ip") in ips][:3]
    for d in described(results, "Service"):
        checks += pods_behind(d)
    return checks
