"""Autoscaling: an HorizontalPodAutoscaler held at its maximum; one that cannot compute a replica count because
a container of its target's pods has no request for the resource it scales on (the utilization is a share of
every container's request, so one container without it blinds the HPA)."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.follow.autoscaling import FAILING, inactive
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader

# "missing request for cpu in container \"api\" of Pod \"web-…\"" (v1.2x), "… on container api in pod ns/web-…"
# (older), or only "missing request for cpu"
MISSING = re.compile(r'missing request for ([a-z0-9./-]+)(?: (?:in|on) container "?([a-z0-9][-a-z0-9]*)"?)?')


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


def _without(pods: list[dict[str, Any]], resource: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The first pod and container of `pods` with no request for `resource`."""
    return next(((p, c) for p in pods for c in p.get("containers", [])
                 if resource not in (c.get("requests") or {})), None)


def _target_pods(r: Reader, ns: str, target: str, message: str) -> list[dict[str, Any]]:
    """The pods read of the HPA's target: the one its message names, those its Deployment or ReplicaSets own."""
    def owned(p: dict[str, Any]) -> bool:
        return any(str(link).split("/", 1)[-1] == target or str(link).startswith(f"ReplicaSet/{target}-")
                   for link in p.get("controlled_by") or [])
    return [p for p in described(r.results, "Pod") if p.get("namespace") == ns and (p["name"] in message or owned(p))]


def missing_request(r: Reader) -> Diagnosis | None:
    """ScalingActive False because a container of the target's pods has no request for the metric's resource."""
    for h in described(r.results, "HorizontalPodAutoscaler"):
        active = inactive(h)
        failing = [e for e in h.get("events", []) if e.get("reason") in FAILING]
        said = [str(active.get("message"))] if active else []
        found = next((m for text in [*said, *(str(e.get("message")) for e in failing)]
                      if (m := MISSING.search(text))), None)
        if found is None:
            continue
        resource, container = found.group(1), found.group(2)
        kind, _, target = str(h.get("target", "")).partition("/")
        ns = h["namespace"]
        pods = _target_pods(r, ns, target, found.string)
        seen = next(((p, c) for p in pods for c in p.get("containers", []) if c["name"] == container), None) \
            if container else _without(pods, resource)
        container = container or (seen[1]["name"] if seen else None)
        if container is None:
            continue  # the HPA says a request is missing, but no container read shows which: not a guess
        state = f"ScalingActive False ({active.get('reason')}): {active.get('message')}" if active else \
            f"{failing[0]['reason']}: {failing[0]['message']}"
        if f'container "{container}"' not in state and f"container {container}" not in state:
            state += f"; container {container} of {target} has no {resource} request"
        quotes = [f"{e['reason']}: {e['message']}" for e in failing[:2]]
        if seen:
            p, c = seen
            quotes.append(f"Pod {ns}/{p['name']} container {c['name']}: requests "
                          f"{', '.join(f'{k} {v}' for k, v in (c.get('requests') or {}).items()) or 'none'}")
        return r.make("hpa-missing-request", f"HorizontalPodAutoscaler {ns}/{h['name']}", state, quotes,
                      f"set a {resource} request on container {container} of {kind} {ns}/{target}: the HPA's "
                      f"{resource} utilization is a share of every container's request, and until each has one "
                      "it cannot scale", container=container, workload=f"{kind} {ns}/{target}")
    return None
