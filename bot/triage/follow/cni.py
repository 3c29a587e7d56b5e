"""Follow-up reads for the network plugin: a pod's sandbox cannot be created (FailedCreatePodSandBox), so the
DaemonSet of the plugin its message names (`plugin type="aws-cni"` → aws-node, `calico` → calico-node,
`cilium-cni` → cilium, in whatever namespace it runs) and its pod on the stuck pod's node, with that pod's logs."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.quotes import events
from bot.triage.results import LOG_TAIL, Check, describe_pod, described, ok
from tools.base import ToolResult

SANDBOX = "FailedCreatePodSandBox"
PLUGIN = re.compile(r'plugin type="([^"]+)"')  # containerd/CRI-O's CNI error: plugin type="calico" failed (add)
GENERIC = {"cni", "plugin", "ipam", "node", "agent"}


def words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", name.lower()) if w and w not in GENERIC}


def plugins(messages: list[str]) -> set[str]:
    """The plugins a sandbox error names, as name words ("aws", "calico", "cilium")."""
    return {w for m in messages for p in PLUGIN.findall(m) for w in words(p)}


def stuck(results: list[ToolResult]) -> list[tuple[dict[str, Any], list[str]]]:
    """The described pods whose sandbox could not be created, with the kubelet's messages."""
    return [(p, msgs) for p in described(results, "Pod") if (msgs := events(p, SANDBOX))]


def agent_sets(results: list[ToolResult], names: set[str]) -> list[dict[str, Any]]:
    """The DaemonSets (listed in every namespace) whose name carries a word of the plugin's name."""
    return [s for d in ok(results, "k8s_list") if d.get("kind") == "DaemonSet" and not d.get("namespace")
            for s in d.get("items", []) if words(s["name"]) & names]


def reads(results: list[ToolResult]) -> list[Check]:
    found = stuck(results)
    names = plugins([m for _, msgs in found for m in msgs])
    if not names:
        return []
    checks: list[Check] = [("k8s_list", {"kind": "DaemonSet"})]
    checks += [("k8s_describe", {"kind": "DaemonSet", "namespace": s["namespace"], "name": s["name"]})
               for s in agent_sets(results, names)[:2]]
    nodes = [p.get("node") for p, _ in found]
    for ds in described(results, "DaemonSet"):
        if not words(ds["name"]) & names:
            continue
        pods = ds.get("pods") or []
        here = [x for x in pods if x.get("node") in nodes] or pods
        for x in here[:1]:
            checks += [describe_pod(ds["namespace"], x["name"]),
                       ("k8s_pod_logs", {"namespace": ds["namespace"], "pod": x["name"], "tail_lines": LOG_TAIL})]
    return checks
