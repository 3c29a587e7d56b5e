"""Scheduling: what a person should do about the scheduler's FailedScheduling message, and whether any node
could ever hold what the pod asks for."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bot.triage.follow.storage import says_conflict
from tools.k8s_quantity import amount, quantity

INSUFFICIENT = re.compile(r"Insufficient (\S+?)[.,](?:\s|$)")


def asked(pod: dict[str, Any], resource: str) -> Decimal:
    """What a pod's containers request of a resource (a limit stands in for a missing request)."""
    return sum((quantity(({**(c.get("limits") or {}), **(c.get("requests") or {})}).get(resource, "0"))
                for c in pod.get("containers", [])), Decimal(0))


def too_big(pod: dict[str, Any], message: str, nodes: list[dict[str, Any]]) -> tuple[str, str, str] | None:
    """(resource, asked, the largest node's allocatable) when no node listed could ever hold the pod's request,
    whatever else runs; None when one could (or the nodes' sizes were not read)."""
    for resource in sorted(set(INSUFFICIENT.findall(message))):
        sizes = [quantity(n["allocatable"].get(resource, "0")) for n in nodes if n.get("allocatable")]
        want = asked(pod, resource)
        if sizes and want > max(sizes):
            return resource, amount(resource, want), amount(resource, max(sizes))
    return None


def placement(message: str, too_big_for_any: tuple[str, str, str] | None = None) -> str:
    """What a person should do about a FailedScheduling message."""
    if too_big_for_any:
        resource, want, largest = too_big_for_any
        if largest == "0":
            return (f"no node has any {resource} (the pod asks for {want}): add nodes that have it (a node pool "
                    "with it), or drop the request; scaling up only adds Pending pods")
        return (f"no node can ever hold it (the pod asks for {want} {resource}; the largest node has {largest} "
                "allocatable): lower the pod's request (or split the work), or add a node type that large; adding "
                "nodes of the same size or scaling up does not help")
    if "Insufficient" in message:
        wanted = ", ".join(sorted(set(INSUFFICIENT.findall(message)))) or "resources"
        return (f"add nodes with free {wanted} (or a node pool that has it), or lower the pod's requests; "
                "scaling up only adds Pending pods")
    if says_conflict(message):
        return ("run a node in the zone of the pod's volume, or restore the volume in a zone that has nodes; "
                "labelling a node does not move a volume")
    if "taint" in message:
        return "add a toleration for the node taint to the pod, or run it on nodes without the taint"
    if "affinity" in message or "selector" in message:
        return "fix the pod's nodeSelector or affinity, or label a node to match it"
    if "Too many pods" in message:
        return "add nodes or raise maxPods: every node is at its pod limit"
    return "make room or fix the placement rules the scheduler names"
