"""Follow-up reads for storage and placement: a pod the scheduler cannot place because its volume is pinned
elsewhere ("volume node affinity conflict") leads to its claims, their volumes' node affinity and the nodes'
zones."""

from __future__ import annotations

from bot.triage.results import Check, described
from tools.base import ToolResult

CONFLICT = "volume node affinity conflict"
# how the scheduler's VolumeBinding plugin says it: "had volume node affinity conflict" in older releases,
# "didn't match PersistentVolume's node affinity" in v1.34 (the real control plane's kube-scheduler)
SAYS_CONFLICT = (CONFLICT, "didn't match PersistentVolume's node affinity")


def says_conflict(message: str) -> bool:
    return any(words in message for words in SAYS_CONFLICT)


def unplaceable(pod: dict) -> bool:
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" and says_conflict(c.get("message") or "")
               for c in pod.get("conditions", []))


def reads(results: list[ToolResult]) -> list[Check]:
    checks: list[Check] = []
    for p in described(results, "Pod"):
        if not unplaceable(p):
            continue
        checks += [("k8s_describe", {"kind": "PersistentVolumeClaim", "namespace": p["namespace"],
                                     "name": c["claim"]}) for c in p.get("claims", []) if c.get("exists")]
        checks.append(("k8s_list", {"kind": "Node"}))
    return checks
