"""Every tool opsbot has, gathered from the backend modules."""

from __future__ import annotations

from tools import k8s, k8s_actions, knowledge, logs, metrics
from tools.base import Tool


def all_tools() -> list[Tool]:
    return [*metrics.TOOLS, *logs.TOOLS, *k8s.TOOLS, *k8s_actions.TOOLS, *knowledge.TOOLS]
