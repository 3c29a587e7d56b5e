"""Follow-up reads for the network: a pod's logs say it cannot reach a name or an address, so the
NetworkPolicies of its namespace; a name lookup fails, so the cluster DNS: the Service the resolver's address
belongs to (else kube-system's Service on port 53), one of its pods (not ready first) and that pod's logs."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.results import (
    DNS_FAILURE,
    LOG_TAIL,
    NETWORK_FAILURE,
    Check,
    describe_pod,
    described,
    endpoint_pods,
    log_lines,
    namespaces,
    ok,
)
from tools.base import ToolResult

RESOLVER = re.compile(r"\bon (\d{1,3}(?:\.\d{1,3}){3}):53\b")  # Go's "lookup x on 10.96.0.10:53: …"
DNS_NAMESPACE = "kube-system"


def reads(results: list[ToolResult]) -> list[Check]:
    """A pod's logs say it cannot reach a name or an address: the NetworkPolicies of its namespace; a lookup
    failed: the cluster DNS (dns_reads)."""
    lines = log_lines(results)
    if not any(NETWORK_FAILURE.search(line) for line in lines):
        return []
    listed = [(d["namespace"], item["name"]) for d in ok(results, "k8s_list") if d.get("kind") == "NetworkPolicy"
              for item in d.get("items", [])[:3]]
    return [("k8s_list", {"kind": "NetworkPolicy", "namespace": ns}) for ns in namespaces(results)[:1]] + \
        [("k8s_describe", {"kind": "NetworkPolicy", "namespace": ns, "name": name}) for ns, name in listed] + \
        dns_reads(results, [x for x in lines if DNS_FAILURE.search(x)])


def cluster_dns(results: list[ToolResult], lines: list[str]) -> list[dict[str, Any]]:
    """The Services that are the cluster DNS, as listed: the resolver the failing lookups name, else the
    Services of kube-system that serve port 53."""
    services = [s for d in ok(results, "k8s_list") if d.get("kind") == "Service" and not d.get("namespace")
                for s in d.get("items", [])]
    ips = {m.group(1) for x in lines for m in RESOLVER.finditer(x)}
    return [s for s in services if s.get("cluster_ip") in ips] or \
        [s for s in services if s.get("namespace") == DNS_NAMESPACE and any(str(p).startswith("53/")
                                                                              for p in s.get("ports") or [])]


def dns_reads(results: list[ToolResult], lines: list[str]) -> list[Check]:
    if not lines:
        return []
    checks: list[Check] = [("k8s_list", {"kind": "Service"})]
    dns = {(s["namespace"], s["name"]) for s in cluster_dns(results, lines)}
    checks += [("k8s_describe", {"kind": "Service", "namespace": ns, "name": name}) for ns, name in sorted(dns)]
    for d in described(results, "Service"):
        if (d["namespace"], d["name"]) not in dns:
            continue
        ready, not_ready = endpoint_pods(d)
        for pod in (not_ready or ready)[:1]:
            checks += [describe_pod(d["namespace"], pod),
                       ("k8s_pod_logs", {"namespace": d["namespace"], "pod": pod, "tail_lines": LOG_TAIL})]
    return checks
