"""Follow-up reads for scheduling: a pod the scheduler cannot place for lack of a resource leads to the nodes'
sizes (can any node ever hold what it asks for?)."""

from __future__ import annotations

from bot.triage.results import Check, described
from tools.base import ToolResult


def reads(results: list[ToolResult]) -> list[Check]:
    short = any(c.get("type") == "PodScheduled" and c.get("status") == "False" and "Insufficient" in
                (c.get("message") or "") for p in described(results, "Pod") for c in p.get("conditions", []))
    return [("k8s_list", {"kind": "Node"})] if short else []
