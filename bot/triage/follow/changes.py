"""Follow-up reads for what changed: a ConfigMap or Secret changed in the window while the workload's pods look
healthy, so one of its pods is described (which ConfigMaps and Secrets it reads, when its containers started),
and its logs read when no pod's logs were (whether its calls fail as an old value would)."""

from __future__ import annotations

from bot.triage.results import LOG_TAIL, Check, change_rows, describe_pod, described, ok
from tools.base import ToolResult

CONFIG_KINDS = ("ConfigMap", "Secret")


def reads(results: list[ToolResult]) -> list[Check]:
    """A ConfigMap or Secret changed in the window and no pod is described yet: one pod of the workload listed
    (and its logs), else the pods of the Deployment described."""
    if described(results, "Pod") or not any(c.get("kind") in CONFIG_KINDS for c in change_rows(results)):
        return []
    for d in ok(results, "k8s_list"):
        pods = [p for p in d.get("pods", []) if p.get("name")]
        ns = d.get("namespace")
        if pods and ns:
            logs = [] if any(ok(results, "k8s_pod_logs")) else [
                ("k8s_pod_logs", {"namespace": ns, "pod": pods[-1]["name"], "tail_lines": LOG_TAIL})]
            return [describe_pod(ns, pods[-1]["name"]), *logs]
    # only the unhealthy were listed (none): every pod of the described Deployment
    return [("k8s_list", {"kind": "Pod", "namespace": d["namespace"], "deployment": d["name"]})
            for d in described(results, "Deployment")[:1]]
