"""Autoscaling: an HorizontalPodAutoscaler held at its maximum."""

from __future__ import annotations

from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader


def hpa(r: Reader) -> Diagnosis | None:
    for h in described(r.results, "HorizontalPodAutoscaler"):
        if h.get("current_replicas") is not None and h.get("current_replicas") >= h.get("max_replicas", 0):
            limited = [f"{c['reason']}: {c['message']}" for c in h.get("conditions", [])
                       if c.get("type") == "ScalingLimited" and c.get("status") == "True"]
            return r.make("hpa-maxed-out", f"HorizontalPodAutoscaler {h['namespace']}/{h['name']}",
                          f"{h['current_replicas']}/{h['max_replicas']} replicas (max) for {h.get('target')}; "
                          f"metrics {', '.join(h.get('current_metrics', []))}", limited,
                          f"raise maxReplicas of {h['name']} (now {h['max_replicas']}) if the nodes have room, "
                          "or find why the load grew; scaling by hand is undone by the autoscaler", False)
    return None
