"""Follow-up reads for autoscaling: an HorizontalPodAutoscaler's events say it cannot compute a replica count
(FailedGetResourceMetric, FailedComputeMetricsReplicas), so the HPA itself (its conditions); an HPA that is not
scaling (ScalingActive False), so the workload it targets (its revisions) and the pod its message names (which
container has no request)."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.results import Check, describe_pod, described, ok
from tools.base import ToolResult

FAILING = {"FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetPodsMetric",
           "FailedGetObjectMetric", "FailedGetExternalMetric", "FailedGetContainerResourceMetric"}
# the pod a "missing request" message names: '… in container "api" of Pod "web-5d8f-x2"' (v1.2x) or
# '… on container api in pod shop/web-5d8f-x2' (older)
NAMED_POD = re.compile(r'(?:of Pod|in pod) "?(?:[a-z0-9-]+/)?([a-z0-9][-a-z0-9.]*[a-z0-9])"?')


def inactive(hpa: dict[str, Any]) -> dict[str, Any] | None:
    """The HPA's ScalingActive condition when it is False: the HPA is not scaling."""
    return next((c for c in hpa.get("conditions", []) if c.get("type") == "ScalingActive"
                 and c.get("status") == "False"), None)


def reads(results: list[ToolResult]) -> list[Check]:
    checks: list[Check] = []
    rows = [(d.get("namespace"), e) for d in ok(results, "k8s_events") for e in d.get("events", [])]
    rows += [(d.get("namespace"), e) for d in ok(results, "k8s_describe") for e in d.get("events", [])]
    for ns, e in rows:
        kind, _, name = str(e.get("object", "")).partition("/")
        if ns and kind == "HorizontalPodAutoscaler" and e.get("reason") in FAILING:
            checks.append(("k8s_describe", {"kind": "HorizontalPodAutoscaler", "namespace": ns, "name": name}))
    for h in described(results, "HorizontalPodAutoscaler"):
        active = inactive(h)
        if active is None:
            continue
        kind, _, target = str(h.get("target", "")).partition("/")
        if kind == "Deployment":
            checks.append(("k8s_describe", {"kind": "Deployment", "namespace": h["namespace"], "name": target}))
            checks.append(("k8s_list", {"namespace": h["namespace"], "deployment": target}))
        named = NAMED_POD.search(str(active.get("message")))
        if named:
            checks.append(describe_pod(h["namespace"], named.group(1)))
        elif kind == "Deployment":  # no pod named: one of the target's pods shows its containers' requests
            pods = [p["name"] for d in ok(results, "k8s_list") if d.get("kind") == "Pod"
                    and d.get("namespace") == h["namespace"] for p in d.get("pods", [])
                    if p["name"].startswith(f"{target}-")]
            checks += [describe_pod(h["namespace"], name) for name in pods[:1]]
    return checks
