"""Follow-up reads for the network: a pod's logs say it cannot reach a name or an address, so the
NetworkPolicies of its namespace."""

from __future__ import annotations

from bot.triage.results import NETWORK_FAILURE, Check, log_lines, namespaces, ok
from tools.base import ToolResult


def reads(results: list[ToolResult]) -> list[Check]:
    """A pod's logs say it cannot reach a name or an address: the NetworkPolicies of its namespace."""
    if not any(NETWORK_FAILURE.search(line) for line in log_lines(results)):
        return []
    listed = [(d["namespace"], item["name"]) for d in ok(results, "k8s_list") if d.get("kind") == "NetworkPolicy"
              for item in d.get("items", [])[:3]]
    return [("k8s_list", {"kind": "NetworkPolicy", "namespace": ns}) for ns in namespaces(results)[:1]] + \
        [("k8s_describe", {"kind": "NetworkPolicy", "namespace": ns, "name": name}) for ns, name in listed]
