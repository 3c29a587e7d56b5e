"""The decisive words, quoted as their source wrote them: a container's state and last exit as the kubelet
reported them, the log lines that explain a failure, an object's events by reason."""

from __future__ import annotations

import re
from typing import Any

from tools.base import ToolResult

# words that make a log line decisive, in the order they explain an exit
TELLING = re.compile(r"(?i)(fatal|panic|exception|error|traceback|not set|undefined|denied|expired|not found|"
                     r"no such|timeout|timed out|refused|unreachable|cannot|can't|could not|unable|failed|"
                     r"invalid|missing|killed|out of memory|exceeded|still waiting|deadlock|lock timeout)")


def telling(lines: list[str], n: int = 4) -> list[str]:
    """The lines that explain a failure, in their order, the last n: those with telling words, the indented
    detail a message goes on with, and a traceback's last frame (the code line just before the exception);
    no telling line: the last lines."""
    keep: set[int] = set()
    for i, x in enumerate(lines):
        if not TELLING.search(x):
            continue
        keep.add(i)
        if i + 1 < len(lines) and lines[i + 1][:1].isspace() and not lines[i + 1].strip().startswith("File "):
            keep.add(i + 1)
        if i > 0 and not x[:1].isspace() and lines[i - 1][:1].isspace():
            keep.add(i - 1)
    return ([lines[i] for i in sorted(keep)] or lines)[-n:]


def state_of(c: dict[str, Any]) -> dict[str, Any]:
    return c.get("state") or {}


def last_exit(t: dict[str, Any]) -> str:
    message = f": {t['message']}" if t.get("message") else ""
    return f"last exit {t.get('exit_code')} ({t.get('reason')}{message})"


def state_text(c: dict[str, Any]) -> str:
    """'CrashLoopBackOff: back-off …; last exit 1 (Error: …)': a container's state as the kubelet wrote it."""
    state, last = state_of(c), c.get("last_state") or {}
    line = str(state.get("reason") or state.get("state"))
    if state.get("message"):
        line += f": {state['message']}"
    if state.get("state") == "terminated" and state.get("exit_code") is not None:
        line += f" (exit {state['exit_code']})"
    if last:
        line += f"; {last_exit(last)}"
    return line


def container_line(c: dict[str, Any]) -> str:
    return f"{c['name']}: {state_text(c)}"


def pod_logs(results: list[ToolResult], pod: str, container: str) -> list[str]:
    out: list[str] = []
    for r in results:
        d = r.data if r.tool == "k8s_pod_logs" and isinstance(r.data, dict) else {}
        if d.get("pod") == pod and d.get("container") == container:
            out += [str(x) for x in d.get("lines", [])]
    return out


def events(obj: dict[str, Any], *reasons: str) -> list[str]:
    return [e["message"] for e in obj.get("events", []) if e.get("reason") in reasons and e.get("message")]


def resources(c: dict[str, Any]) -> str | None:
    """'requests memory 100Mi, nvidia.com/gpu 5; limits …': what a container asks for, extended resources too."""
    parts = [f"{which} " + ", ".join(f"{k} {v}" for k, v in sorted((c.get(which) or {}).items()))
             for which in ("requests", "limits") if c.get(which)]
    return f"container {c['name']} {'; '.join(parts)}" if parts else None
