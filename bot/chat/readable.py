"""Tool results as people read them in chat: a sentence, then a short table in a code block (pods: name,
status, ready, restarts, age; logs: the messages by count, then the newest lines; events; alerts), never a
dump of the tool's data. Tools without a table of their own get a cut YAML rendering. The full result stays
in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from tools.base import Status, ToolResult

CELL = 48  # characters of one table cell; longer text is cut with …
LAST_CELL = 200  # the last column (a message, a summary) is what people read: it may run long
Rows = list[list[Any]]


def _cell(value: Any, limit: int = CELL) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(headers: list[str], rows: Rows, limit: int) -> str:
    """A fixed-width table in a code block; rows past `limit` are counted under it."""
    cells = [[_cell(v, LAST_CELL if i == len(row) - 1 else CELL) for i, v in enumerate(row)] for row in rows[:limit]]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    widths[-1] = 0  # the last column is not padded
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    more = f"\n… {len(rows) - limit} more" if len(rows) > limit else ""
    return "```\n" + "\n".join(lines) + "\n```" + more


def _pods(d: dict[str, Any], limit: int) -> str:
    rows = [[p["name"], p["status"], p["ready"], p["restarts"], p["age"]] for p in d["pods"]]
    return d["summary"] + "\n" + table(["name", "status", "ready", "restarts", "age"], rows, limit)


def _objects(d: dict[str, Any], limit: int) -> str:
    if "pods" in d:
        return _pods(d, limit)
    items = d.get("items") or []
    scalar = [k for k, v in (items[0] if items else {}).items() if k != "healthy" and not isinstance(v, list | dict)]
    columns = [k for k in scalar if k not in ("name", "age")][:4]
    headers = [*(["namespace"] if "namespace" in columns else []), "name",
               *[c for c in columns if c != "namespace"], "age", "healthy"]
    rows = [[i.get(h) if h != "healthy" else ("yes" if i["healthy"] else "NO") for h in headers] for i in items]
    return d["summary"] + "\n" + table(headers, rows, limit)


def _logs(d: dict[str, Any], limit: int) -> str:
    exact = "" if d.get("total_exact", True) else "at least "
    out = [f"{exact}{d['total']} matching lines from {d['since']} to {d['until']} (index {d['index']})"]
    if d.get("by_message"):
        out += ["Most frequent:", table(["count", "level", "service", "message"], [
            [b["count"], b.get("level"), b.get("service"), b["message"]] for b in d["by_message"]], min(limit, 8))]
    if d.get("hits"):
        out += ["Newest:", table(["time", "level", "pod", "message"], [
            [h.get("time", "")[11:19], h.get("level"), h.get("pod") or h.get("service"), h.get("message")]
            for h in d["hits"]], min(limit, 10))]
    return "\n".join(out)


def _events(d: dict[str, Any], limit: int) -> str:
    rows = [[e["last_seen"], e["type"], e["reason"], e["object"], e["count"], e["message"]] for e in d["events"]]
    head = f"{d['total']} events in {d['namespace']}, {d['warnings']} warnings"
    return head + "\n" + table(["last", "type", "reason", "object", "times", "message"], rows, limit)


def _alerts(d: dict[str, Any], limit: int) -> str:
    rows = [[a["alertname"], a.get("severity"), a["state"], (a.get("since") or "")[:16].replace("T", " "),
             a.get("summary") or ", ".join(f"{k}={v}" for k, v in a.get("labels", {}).items())]
            for a in d["alerts"]]
    return f"{d['total']} alerts ({d['source']})\n" + table(["alert", "severity", "state", "since", "summary"],
                                                         rows, limit)


def _changes(d: dict[str, Any], limit: int) -> str:
    rows = [[(c.get("at") or "")[11:16], c.get("age"), f"{c.get('kind')} {c.get('object')}",
             c["what"] + (f" [by {c['by']}]" if c.get("by") and f"by {c['by']}" not in c["what"] else "")]
            for c in d["changes"]]
    where = f"in {d['namespace']} and the nodes" if d.get("namespace") else "in the cluster"
    head = f"{d['total']} change{'s' if d['total'] != 1 else ''} {where} since {(d.get('since') or '')[:16].replace('T', ' ')} UTC, oldest first"
    return head + "\n" + table(["at", "ago", "object", "what"], rows[-limit:], limit)


_TABLES: dict[str, Callable[[dict[str, Any], int], str]] = {
    "k8s_list": _objects, "logs_search": _logs, "k8s_events": _events, "k8s_changes": _changes,
    "prom_alerts": _alerts}


def _yaml(data: Any, limit: int) -> str:
    lines = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110).splitlines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more lines"]
    return "\n".join(lines)


def result_text(r: ToolResult, limit: int = 15) -> str:
    """A tool result for chat: what ran, then its answer for people (the error or emptiness in words)."""
    head = f"`{r.invocation}`"
    if r.status == Status.error:
        return f"{head}: {r.error}"
    if r.status == Status.no_data:
        return f"{head}: nothing found: {r.notice}"
    note = f"\n({r.notice})" if r.notice else ""
    render = _TABLES.get(r.tool or "")
    try:
        body = render(r.data, limit) if render and isinstance(r.data, dict) else _yaml(r.data, limit * 2)
    except (KeyError, TypeError, IndexError):  # a result shaped unlike its tool's usual: shown as data
        body = _yaml(r.data, limit * 2)
    return head + note + "\n" + body
