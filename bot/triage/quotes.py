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


# an identifier a line carries: key=value where the key names an id (id=, message_id=, orderId:, offset=), a
# UUID, or a long hex string (a trace or message id)
IDENTIFIER = re.compile(r"(?i)\b(?:[\w.-]*(?:id|uuid|key|offset|seq))\s*[=:]\s*[\"']?([A-Za-z0-9][\w:.-]{2,}\w)|"
                        r"\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b|\b([0-9a-f]{12,})\b")
# a failure to authenticate or be authorised, and the lines an SDK or client prints about where its
# credentials came from (environment, a file, a profile, instance metadata, a service account's token)
AUTH_FAILURE = re.compile(r"(?i)(access ?denied|unauthori[sz]ed|forbidden|\b40[13]\b|InvalidAccessKeyId|"
                          r"ExpiredToken|SignatureDoesNotMatch|InvalidClientTokenId|NoCredentialProviders|"
                          r"locate credentials|authentication failed|permission denied|not authorized)")
CREDENTIALS = re.compile(r"(?i)(credentials?\b|credential provider|instance metadata|IMDS|169\.254\.169\.254|"
                         r"assume ?role|web ?identity|AWS_PROFILE|service account token|access key)")


def identifiers(line: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in IDENTIFIER.finditer(line)}


def telling(lines: list[str], n: int = 4) -> list[str]:
    """The lines that explain a failure, in their order, the last n: those with telling words, the indented
    detail a message goes on with, and a traceback's last frame (the code line just before the exception);
    the lines that carry an identifier a failing line carries, or that the failure followed (the message id
    processed just before each crash); near an authentication failure, where the credentials came from;
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
    keep |= _identified(lines, keep) | _credentials(lines, keep)
    return ([lines[i] for i in sorted(keep)] or lines)[-n:]


def _identified(lines: list[str], failing: set[int]) -> set[int]:
    """The other lines that carry an identifier a failing line carries, and the line with an identifier just
    before a failure (what it was doing when it failed), when that identifier recurs before another failure
    or the failure names none."""
    ids = {token for i in failing for token in identifiers(lines[i])}
    before: dict[str, list[int]] = {}
    for i in sorted(failing):
        if i - 1 in failing:
            continue  # inside one failure's lines
        prev = next((j for j in range(i - 1, max(i - 4, -1), -1) if j not in failing and identifiers(lines[j])), None)
        if prev is not None:
            for token in identifiers(lines[prev]):
                before.setdefault(token, []).append(prev)
    out = {i for i, x in enumerate(lines) if i not in failing and ids & identifiers(x)}
    for token, at in before.items():
        out |= set(at) if len(at) > 1 or not ids else set()
    return out


def _credentials(lines: list[str], failing: set[int]) -> set[int]:
    if not any(AUTH_FAILURE.search(lines[i]) for i in failing):
        return set()
    return {i for i, x in enumerate(lines) if i not in failing and CREDENTIALS.search(x)}


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
    """A container's lines, each read of them once (the same logs read by the plan and by a follow-up)."""
    reads: dict[tuple[str, ...], None] = {}
    for r in results:
        d = r.data if r.tool == "k8s_pod_logs" and isinstance(r.data, dict) else {}
        if d.get("pod") == pod and d.get("container") == container:
            reads.setdefault(tuple(str(x) for x in d.get("lines", [])), None)
    return [line for lines in reads for line in lines]


def events(obj: dict[str, Any], *reasons: str) -> list[str]:
    return [e["message"] for e in obj.get("events", []) if e.get("reason") in reasons and e.get("message")]


def resources(c: dict[str, Any]) -> str | None:
    """'requests memory 100Mi, nvidia.com/gpu 5; limits …': what a container asks for, extended resources too."""
    parts = [f"{which} " + ", ".join(f"{k} {v}" for k, v in sorted((c.get(which) or {}).items()))
             for which in ("requests", "limits") if c.get(which)]
    return f"container {c['name']} {'; '.join(parts)}" if parts else None
