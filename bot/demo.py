"""The demo on the sandbox: what an on-call engineer sees when opsbot looks at the loaded scenario."""

from __future__ import annotations

import time
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
        ("k8s_list_pods", {"namespace": namespace, "only_unhealthy": True}),
        ("k8s_get_deployment", {"namespace": namespace, "deployment": service}),
        ("k8s_events", {"namespace": namespace, "limit": 5}),
        ("k8s_pod_logs", {"namespace": namespace, "pod": service, "tail_lines": 20, "previous": True}),
        ("logs_search", {"service": service, "level": "error", "since": "last 30m"}),
        *[("prom_query_range", {"query": s.name + _selector(s.labels), "since": "1h"}) for s in sc.metrics.series[:2]],
    ]


def _selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def wait_for_alert(door: Door, sc: Scenario, caller: Caller, timeout_s: float = 60.0) -> ToolResult:
    """Poll Alertmanager until the scenario's alert fires (Prometheus evaluates every 5 s), or give up."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = door.run("prom_alerts", {"state": "firing"}, caller)
        names = {a.get("alertname") for a in (result.data or {}).get("alerts", [])} if result.status == "success" else set()
        if {a.name for a in sc.alerts} <= names or time.monotonic() > deadline:
            return result
        time.sleep(1.0)


def run_demo(door: Door, sc: Scenario, show: Printer) -> list[ToolResult]:
    caller = Caller(identity="cli:demo", via="demo")
    results = [wait_for_alert(door, sc, caller)]
    show(results[0])
    for name, args in investigation(sc):
        result = door.run(name, args, caller)
        show(result)
        results.append(result)
    return results
