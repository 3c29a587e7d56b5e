"""Every tool opsbot has, by name: a backend module is imported when one of its tools is first asked for, so a
command that runs one tool loads that tool's code only (the door still knows every name)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from importlib import import_module

from tools.base import Tool

# each backend module (tools/<module>.py, its TOOLS list) and the names of its tools, in the order tools are listed
MODULES: dict[str, tuple[str, ...]] = {
    "metrics": ("prom_query", "prom_query_range", "prom_alerts"),
    "logs": ("logs_search",),
    "k8s_list": ("k8s_list",),
    "k8s_describe": ("k8s_describe",),
    "k8s_events": ("k8s_events",),
    "k8s_changes": ("k8s_changes",),
    "k8s_logs": ("k8s_pod_logs",),
    "k8s_actions": ("k8s_scale", "k8s_rollout_restart", "k8s_delete_pod", "k8s_rollback"),
    "knowledge": ("knowledge_search",),
}


class Catalog(Mapping[str, Tool]):
    """Every tool by name, each loaded at its first lookup; `extra` tools (other MCP servers') are given whole
    and, as in a dict built from the list, win over a built-in tool of the same name."""

    def __init__(self, extra: Iterable[Tool] = ()):
        self._extra = {t.name: t for t in extra}
        self._module = {name: module for module, names in MODULES.items() for name in names}
        self._names = [*self._module, *(n for n in self._extra if n not in self._module)]

    def __getitem__(self, name: str) -> Tool:
        if name in self._extra:
            return self._extra[name]
        tools = {t.name: t for t in import_module(f"tools.{self._module[name]}").TOOLS}  # KeyError: no such tool
        return tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._extra or name in self._module


def all_tools() -> list[Tool]:
    return list(Catalog().values())


def tool_map() -> dict[str, Tool]:
    """Every tool by name (what playbooks are checked against)."""
    return dict(Catalog())
