"""Every tool opsbot has, gathered from the backend modules."""

from __future__ import annotations

from tools import (
    k8s_actions,
    k8s_changes,
    k8s_describe,
    k8s_events,
    k8s_list,
    k8s_logs,
    knowledge,
    logs,
    metrics,
)
from tools.base import Tool


def all_tools() -> list[Tool]:
    return [*metrics.TOOLS, *logs.TOOLS, *k8s_list.TOOLS, *k8s_describe.TOOLS, *k8s_events.TOOLS, *k8s_changes.TOOLS,
            *k8s_logs.TOOLS,
            *k8s_actions.TOOLS, *knowledge.TOOLS]


def tool_map() -> dict[str, Tool]:
    """Every tool by name (what playbooks are checked against)."""
    return {t.name: t for t in all_tools()}
