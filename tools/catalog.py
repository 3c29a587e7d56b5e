"""Every tool opsbot has, gathered from the backend modules."""

from __future__ import annotations

from tools.base import Tool


def all_tools() -> list[Tool]:
    modules = []
    for name in ("metrics", "logs", "k8s"):
        try:
            modules.append(__import__(f"tools.{name}", fromlist=["TOOLS"]))
        except ModuleNotFoundError:  # TEMPORARY while the backend modules are being written
            continue
    return [t for m in modules for t in m.TOOLS]
