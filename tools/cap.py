"""Bounding a tool result's size, with an explicit notice of what was cut so the reader can narrow the query."""

from __future__ import annotations

import json
from typing import Any

from tools.base import ToolResult


def _size(data: Any) -> int:
    return len(json.dumps(data, default=str))


def _lists(data: Any) -> dict[str, list[Any]]:
    if isinstance(data, list):
        return {"items": data}
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if isinstance(v, list)}
    return {}


def cap(result: ToolResult, max_chars: int) -> ToolResult:
    """Halve the longest lists until the data fits max_chars; as a last resort cut the serialised text."""
    data = result.data
    if data is None or _size(data) <= max_chars:
        return result
    data = list(data) if isinstance(data, list) else dict(data) if isinstance(data, dict) else data
    totals = {k: len(v) for k, v in _lists(data).items()}
    while _size(data) > max_chars:
        lists = _lists(data)
        key = max(lists, key=lambda k: _size(lists[k]), default=None)
        if key is None or len(lists[key]) <= 1:
            break
        shorter = lists[key][: len(lists[key]) // 2]
        if isinstance(data, list):
            data = shorter
        else:
            data[key] = shorter
    cuts = [f"{len(_lists(data)[k])} of {n} {k}" for k, n in totals.items() if len(_lists(data)[k]) < n]
    if _size(data) > max_chars:
        data = json.dumps(data, default=str)[:max_chars] + "…"
        cuts.append(f"text cut at {max_chars} characters")
    notice = f"result truncated ({'; '.join(cuts)} shown); narrow the query: filters, a shorter range, a limit"
    if result.notice:
        notice = f"{result.notice}; {notice}"
    return result.model_copy(update={"data": data, "truncated": True, "notice": notice})
