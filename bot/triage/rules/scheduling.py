"""Scheduling: what a person should do about the scheduler's FailedScheduling message."""

from __future__ import annotations

import re


def placement(message: str) -> str:
    """What a person should do about a FailedScheduling message."""
    if "Insufficient" in message:
        wanted = ", ".join(sorted(set(re.findall(r"Insufficient (\S+?)[.,](?:\s|$)", message)))) or "resources"
        return (f"add nodes with free {wanted} (or a node pool that has it), or lower the pod's requests; "
                "scaling up only adds Pending pods")
    if "volume node affinity conflict" in message:
        return ("run a node in the zone of the pod's volume, or restore the volume in a zone that has nodes; "
                "labelling a node does not move a volume")
    if "taint" in message:
        return "add a toleration for the node taint to the pod, or run it on nodes without the taint"
    if "affinity" in message or "selector" in message:
        return "fix the pod's nodeSelector or affinity, or label a node to match it"
    if "Too many pods" in message:
        return "add nodes or raise maxPods: every node is at its pod limit"
    return "make room or fix the placement rules the scheduler names"
