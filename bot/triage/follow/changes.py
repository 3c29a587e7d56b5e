"""Follow-up reads for what changed: a ConfigMap or Secret changed in the window while the workload's pods look
healthy, so one of its pods is described (which ConfigMaps and Secrets it reads, when its containers started)."""

from __future__ import annotations

from bot.triage.results import Check, change_rows, describe_pod, described, ok
from tools.base import ToolResult

CONFIG_KINDS = ("ConfigMap", "Secret")


def reads(results: list[ToolResult]) -> list[Check]:
    """A ConfigMap or Secret changed in the window and no pod is described yet: one pod of the workload listed."""
    if described(results, "Pod") or not any(c.get("kind") in CONFIG_KINDS for c in change_rows(results)):
        return []
    for d in ok(results, "k8s_list"):
        pods = [p for p in d.get("pods", []) if p.get("name")]
        ns = d.get("namespace")
        if pods and ns:
            return [describe_pod(ns, pods[-1]["name"])]
    return []
