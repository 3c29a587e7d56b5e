"""logs_search's reader for Loki: the same question as LogQL over Loki's HTTP API, answered in the same shape.

The arguments become a log query: a stream selector on the namespace, service and pod labels (settings loki.*_label;
a pod is a prefix, `pod=~"cart-.*"`), a label filter for the level, and one case-insensitive whole-word line filter
per word of the text. The newest lines come from /loki/api/v1/query_range (direction backward, `limit` lines);
the total is `sum(count_over_time(...[range]))` and the counts by message are
`sum by (message, level, service) (count_over_time(... | regexp "(?P<message>.*)" [range]))`, both instant
queries at the end of the range. Each log line is the message. A Loki that refuses or cannot be reached is an
error naming Loki, its URL, the LogQL and Loki's own words, never an empty answer.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tools.base import BackendError, ToolResult
from tools.context import ToolContext
from tools.log_lines import (
    TOP_MESSAGES,
    Found,
    LogsSearchArgs,
    answer,
    bucket,
    clip,
    describe,
    failed,
    grouped,
    iso,
    line,
    spellings,
)
from tools.settings import LokiSettings

STORE = "loki"
MESSAGE = "message"  # the label the counting query extracts the whole line into
_SERIES_LIMIT = "maximum of series"  # Loki's words when a query returns more series than max_query_series


class LokiRefused(Exception):
    """Loki answered with an error: its status and its own words."""

    def __init__(self, status: int, text: str):
        self.status, self.text = status, clip(" ".join(text.split()), 300)
        super().__init__(f"HTTP {status}: {self.text}")


def logql(args: LogsSearchArgs, s: LokiSettings) -> str:
    """The log query for the arguments (no metric around it)."""
    matchers = [f"{s.namespace_label}={_str(args.namespace)}"] if args.namespace else []
    if args.service:
        matchers.append(f"{s.service_label}={_str(args.service)}")
    if args.pod:
        matchers.append(f"{s.pod_label}=~{_str(re.escape(args.pod) + '.*')}")
    # Loki refuses a selector that every stream matches: any namespace at all stands for "every line"
    query = "{" + (", ".join(matchers) or f'{s.namespace_label}=~".+"') + "}"
    for word in re.findall(r"\w+", args.query or ""):
        whole_word = r"(?i)\b" + word + r"\b"
        query += f" |~ {_str(whole_word)}"
    if args.level:
        query += f" | {s.level_label}=~{_str('|'.join(spellings(args.level)))}"
    return query


def search(ctx: ToolContext, args: LogsSearchArgs, invocation: str, start: datetime, end: datetime) -> ToolResult:
    s = ctx.settings.loki
    query = logql(args, s)
    asked = f"the LogQL {query} ({describe(args, start, end)})"
    client: httpx.Client = ctx.backends.loki
    window = f"{max(1, round((end - start).total_seconds() * 1000))}ms"
    try:
        streams = _ask(client, s, asked, "/loki/api/v1/query_range", {
            "query": query, "start": _ns(start), "end": _ns(end) + 1, "limit": args.limit, "direction": "backward"})
        counted = _ask(client, s, asked, "/loki/api/v1/query",
                       {"query": f"sum(count_over_time({query} [{window}]))", "time": _ns(end)})
        hits = _newest(streams, s, args.limit)
        total = sum(int(float(v["value"][1])) for v in counted)
        by_message, other, notes = _by_message(client, s, asked, query, window, end, hits, total)
    except LokiRefused as e:
        return failed(invocation, f"{STORE} at {s.url} refused {asked}: {e}")
    found = Found(total=total, hits=hits, by_message=by_message, other_messages_count=other, notes=notes)
    return answer(ctx, args, invocation, {"logql": query}, f"loki at {s.url}", start, end, found)


def _by_message(client: httpx.Client, s: LokiSettings, asked: str, query: str, window: str, end: datetime,
                hits: list[dict[str, Any]], total: int) -> tuple[list[dict[str, Any]], int | None, list[str]]:
    """Every matching line counted by message (the level and service of the newest line shown, else of the
    largest group); when Loki refuses that many series, grouped from the lines shown, saying so."""
    labels = ", ".join(dict.fromkeys((MESSAGE, s.level_label, s.service_label)))
    metric = (f"sum by ({labels}) (count_over_time({query} | regexp {_str(f'(?P<{MESSAGE}>.*)')} [{window}]))")
    try:
        series = _ask(client, s, asked, "/loki/api/v1/query", {"query": metric, "time": _ns(end)})
    except LokiRefused as e:
        if _SERIES_LIMIT not in e.text:
            raise
        return grouped(hits), None, [f"messages grouped from the {len(hits)} lines shown only: loki at {s.url} "
                                     f"would not count every matching line by message ({e.text})"]
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for one in series:
        groups.setdefault(one["metric"].get(MESSAGE, ""), []).append((int(float(one["value"][1])), one["metric"]))
    newest = {}
    for h in reversed(hits):
        newest[h["message"]] = h
    ranked = sorted(groups.items(), key=lambda kv: (-sum(n for n, _ in kv[1]), kv[0]))[:TOP_MESSAGES]
    buckets = []
    for message, parts in ranked:
        seen = newest.get(clip(message))
        labels_of = max(parts, key=lambda p: p[0])[1]
        buckets.append(bucket(message, sum(n for n, _ in parts),
                              seen["level"] if seen else labels_of.get(s.level_label),
                              seen["service"] if seen else labels_of.get(s.service_label),
                              seen["time"] if seen else None))
    return buckets, total - sum(b["count"] for b in buckets), []


def _ask(client: httpx.Client, s: LokiSettings, asked: str, path: str, params: dict[str, Any]) -> list[Any]:
    """The `data.result` of one query; an outage raises BackendError, a refusal LokiRefused."""
    try:
        r = client.get(path, params=params)
    except httpx.TimeoutException:
        raise BackendError(STORE, s.url, asked, f"no answer within {s.timeout_s:g}s") from None
    except httpx.HTTPError as e:
        reason = "connection refused" if "refused" in str(e).lower() else clip(str(e) or type(e).__name__, 200)
        raise BackendError(STORE, s.url, asked, reason) from None
    if r.status_code != 200:
        raise LokiRefused(r.status_code, r.text or r.reason_phrase)
    try:
        return list(r.json()["data"]["result"])
    except (ValueError, KeyError, TypeError):
        raise LokiRefused(r.status_code, f"not a Loki answer: {r.text[:200]}") from None


def _newest(streams: list[dict[str, Any]], s: LokiSettings, limit: int) -> list[dict[str, Any]]:
    """The lines of every stream, newest first, shaped as every store's lines are."""
    entries = [(int(ns), text, stream.get("stream", {})) for stream in streams for ns, text in stream["values"]]
    entries.sort(key=lambda e: -e[0])
    return [line(iso(_at(ns)), labels.get(s.level_label),
                 labels.get(s.service_label), labels.get(s.pod_label), text)
            for ns, text, labels in entries[:limit]]


def _at(ns: int) -> datetime:
    """A Loki timestamp as a time, exact to the microsecond (a float of nanoseconds is not)."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC) + timedelta(microseconds=ns % 1_000_000_000 // 1000)


def _ns(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000) * 1000


def _str(value: str) -> str:
    """A LogQL double-quoted string (Go's escapes, which JSON's are)."""
    return json.dumps(value, ensure_ascii=False)
