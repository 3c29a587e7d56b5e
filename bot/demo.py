"""The demo on the sandbox: what an on-call engineer sees when opsbot looks at the loaded scenario."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.door import Caller, Door
from sandbox.scenario import Scenario
from tools.base import ToolResult

Printer = Callable[[ToolResult], None]


def investigation(sc: Scenario) -> list[tuple[str, dict[str, Any]]]:
    """The read-only checks an on-call engineer runs first for the scenario's alert."""
    labels = sc.alerts[0].labels if sc.alerts else {}
    namespace = labels.get("namespace", sc.cluster.namespaces[0])
    service = labels.get("service", sc.cluster.deployments[0].name)
    return [
        ("prom_alerts", {"state": "firing"}),
        ("k8s_list_pods", {"namespace": namespace}),
        ("k8s_get_deployment", {"namespace": namespace, "name": service}),
        ("k8s_events", {"namespace": namespace}),
        ("k8s_pod_logs", {"namespace": namespace, "pod": service, "tail": 20}),
        ("logs_search", {"service": service, "level": "error", "since": "last 30m"}),
        *[("prom_query_range", {"query": s.name + _selector(s.labels), "since": "1h"}) for s in sc.metrics.series[:2]],
    ]


def _selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def run_demo(door: Door, sc: Scenario, show: Printer) -> list[ToolResult]:
    caller = Caller(identity="cli:demo", via="demo")
    results = []
    for name, args in investigation(sc):
        result = door.run(name, args, caller)
        show(result)
        results.append(result)
    return results
