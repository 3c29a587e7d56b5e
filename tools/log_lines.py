"""What logs_search answers, whatever store holds the logs: its arguments, one line's shape, the counts by message.

Each store's reader (tools/logs_index.py for Elasticsearch and OpenSearch, tools/logs_loki.py for Loki) returns a
`Found`; `answer` turns it into the tool's result, so the same question reads the same from every store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from tools.base import ClusterArgs, Status, ToolResult, empty, ok
from tools.context import ToolContext
from tools.k8s_secret_values import mask_secret_values

Level = Literal["debug", "info", "warn", "error", "fatal"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warn", "error", "fatal")
_ALIASES: dict[str, tuple[str, ...]] = {"warn": ("warning",), "fatal": ("critical",)}
MAX_MESSAGE_CHARS = 300
TOP_MESSAGES = 10


class LogsSearchArgs(ClusterArgs):
    query: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="words that must all appear in the log message (full text, case-insensitive, whole words: "
        "'refused' matches 'connection refused', 'refus' does not); omit to match every message",
    )
    service: str | None = Field(None, min_length=1, description="exact service name")
    namespace: str | None = Field(None, min_length=1, description="exact Kubernetes namespace")
    pod: str | None = Field(None, min_length=1, description="a pod name or its beginning")
    level: Level | None = Field(
        None,
        description="minimum level: 'error' returns error and fatal lines, 'warn' returns warn, error and "
        "fatal; omit for every level",
    )
    since: str = Field("last 30m", description="start: 'last 30m', '2h' (that long ago), 'yesterday 14:00', "
                       "'last Thursday' or ISO 8601")
    until: str = Field("now", description="end: 'now', '10m' (that long ago) or an ISO 8601 time")
    limit: int = Field(20, ge=1, le=100, description="how many of the newest lines to return")


@dataclass
class Found:
    """What a store found: the total, the newest lines (shaped by `line`), and the counts by message (shaped by
    `bucket`; `grouped` from the lines, with a note saying so, when the store cannot count them)."""

    total: int
    hits: list[dict[str, Any]]
    by_message: list[dict[str, Any]]
    other_messages_count: int | None = 0
    total_exact: bool = True
    notes: list[str] = field(default_factory=list)


def spellings(level: Level) -> list[str]:
    """The level and every one above it, as shippers spell them: 'warn'/'warning', lower and upper case."""
    names = [n for lvl in LEVELS[LEVELS.index(level):] for n in (lvl, *_ALIASES.get(lvl, ()))]
    return names + [n.upper() for n in names]


def describe(args: LogsSearchArgs, start: datetime, end: datetime) -> str:
    parts = [f"text '{args.query}'"] if args.query else []
    parts += [f"{k}={v}" for k, v in (("service", args.service), ("namespace", args.namespace)) if v]
    if args.pod:
        parts.append(f"pod={args.pod}*")
    if args.level:
        parts.append(f"level>={args.level}")
    return f"{', '.join(parts) or 'any log line'} from {iso(start)} to {iso(end)}"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clip(text: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def line(time: Any, level: Any, service: Any, pod: Any, message: Any) -> dict[str, Any]:
    """One hit; fields the store lacks (often the pod) are left out rather than shown as null."""
    shaped = {"time": time, "level": level, "service": service, "pod": pod, "message": clip(message)}
    return {k: v for k, v in shaped.items() if v is not None}


def bucket(message: Any, count: int, level: Any, service: Any, last_seen: Any) -> dict[str, Any]:
    return {"message": clip(message), "count": count, "level": level, "service": service, "last_seen": last_seen}


def grouped(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts by message over the lines at hand (newest first), as the stores' counts are shaped."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for h in hits:
        groups.setdefault(str(h.get("message")), []).append(h)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:TOP_MESSAGES]
    return [bucket(message, len(lines), lines[0].get("level"), lines[0].get("service"), lines[0].get("time"))
            for message, lines in ranked]


def answer(ctx: ToolContext, args: LogsSearchArgs, invocation: str, where: dict[str, str], searched: str,
           start: datetime, end: datetime, found: Found) -> ToolResult:
    """The tool's result: `where` names the store's index or query in the data, `searched` in words; an empty
    answer says what was searched and where, never that all is well."""
    if found.total == 0:
        return empty("logs_search", invocation, f"no logs matched {describe(args, start, end)} in {searched}; "
                     "that is not a sign of health: widen the time range or drop a filter")
    notes = list(found.notes)
    data = {
        **where,
        "since": iso(start),
        "until": iso(end),
        "total": found.total,
        "total_exact": found.total_exact,
        "by_message": found.by_message,
        "other_messages_count": found.other_messages_count,
        "hits": found.hits,
    }
    if found.total > len(found.hits):
        shown = f"{found.total}" if found.total_exact else f"at least {found.total}"
        notes.append(f"showing the {len(found.hits)} newest of {shown} matching lines")
    # a namespace's lines may print its Secrets' values: they are masked here, where they are read
    return ok("logs_search", invocation, mask_secret_values(ctx, args.namespace, data), "; ".join(notes) or None)


def failed(invocation: str, error: str) -> ToolResult:
    return ToolResult(tool="logs_search", status=Status.error, invocation=invocation, error=error)
