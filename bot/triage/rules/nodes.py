"""Nodes: the node the alert names is not ready, under pressure, or at its pod limit."""

from __future__ import annotations

from bot.triage.quotes import events
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader


def node(r: Reader) -> Diagnosis | None:
    for n in described(r.results, "Node"):
        about = f"Node {n['name']}"
        ready = next((c for c in n.get("conditions", []) if c.get("type") == "Ready"), None)
        if ready and ready.get("status") != "True":
            return r.make("node-not-ready", about, f"Ready {ready['status']} ({ready.get('reason')}): "
                          f"{ready.get('message')}", [],
                          f"check node {n['name']}'s kubelet and machine; cordon and drain it if it does not "
                          "come back (its pods are rescheduled only once it is gone or drained)", False)
        pressure = [c for c in n.get("conditions", []) if c.get("type") in n.get("pressure", [])]
        if pressure:
            c = pressure[0]
            return r.make("node-pressure", about, f"{c['type']} True ({c.get('reason')}): {c.get('message')}",
                          events(n, "EvictionThresholdMet", "Evicted", "FreeDiskSpaceFailed"),
                          f"free {c['type'].removesuffix('Pressure').lower()} on node {n['name']} (images, logs, "
                          f"emptyDir) or cordon and drain it", False)
        pods = n.get("pods") or {}
        if pods.get("at_limit"):
            return r.make("node-pod-capacity", about, f"runs {pods['running']} pods, its limit is {pods['max']}", [],
                          f"node {n['name']} is at its pod limit: add nodes or raise the kubelet's maxPods", False)
    return None
