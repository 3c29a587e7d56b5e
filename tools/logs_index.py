"""Log search in an Elasticsearch or OpenSearch index: one query and one reading of its answer for both stores.

Reads ECS-shaped documents (see sandbox/es.py): @timestamp, message (text, with message.keyword), log.level,
service.name, kubernetes.namespace, kubernetes.pod.name. Dotted keys stored flat are read as well. Each store's
client sends the request and names its own errors (tools/logs_elasticsearch.py, tools/logs_opensearch.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tools.base import ToolResult
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

if TYPE_CHECKING:
    from tools.settings import IndexSettings

TIME, MESSAGE, MESSAGE_KEYWORD = "@timestamp", "message", "message.keyword"
LEVEL, SERVICE, NAMESPACE, POD = "log.level", "service.name", "kubernetes.namespace", "kubernetes.pod.name"


def request(args: LogsSearchArgs, start: datetime, end: datetime) -> dict[str, Any]:
    """The search body: the newest lines, and a server-side terms aggregation on the keyword sub-field for exact
    counts by message over every match, not a sample (on the text field it would count words, not lines)."""
    return {
        "query": _query(args, start, end),
        "sort": [{TIME: {"order": "desc"}}],
        "size": args.limit,
        "_source": [TIME, MESSAGE, LEVEL, SERVICE, NAMESPACE, POD],
        "aggs": {
            "by_message": {
                "terms": {"field": MESSAGE_KEYWORD, "size": TOP_MESSAGES},
                "aggs": {"last": {"top_hits": {"size": 1, "sort": [{TIME: {"order": "desc"}}],
                                               "_source": [TIME, LEVEL, SERVICE]}}},
            }
        },
    }


def read(response: dict[str, Any], index: str) -> Found | None:
    """What the search found; None when the index pattern matched no index (nothing was searched)."""
    shards = response.get("_shards", {})
    if shards.get("total") == 0:  # a pattern that matches no index searches nothing and finds nothing
        return None
    total = response["hits"]["total"]
    hits = [_line(h["_source"]) for h in response["hits"]["hits"]]
    agg = response.get("aggregations", {}).get("by_message", {})
    notes = []
    if hits and not agg.get("buckets"):  # no keyword sub-field to count on (ECS maps message as text only)
        by_message, other = grouped(hits), None
        notes.append(f"messages grouped from the {len(hits)} lines shown only: index {index} has no "
                     f"{MESSAGE_KEYWORD} field to count every matching line")
    else:
        by_message, other = [_bucket(b) for b in agg.get("buckets", [])], agg.get("sum_other_doc_count", 0)
    if shards.get("failed"):
        notes.append(f"{shards['failed']} of {shards['total']} shards failed: counts may be incomplete")
    return Found(total=total["value"], hits=hits, by_message=by_message, other_messages_count=other,
                 total_exact=total.get("relation", "eq") == "eq", notes=notes)


def no_index(store: str, index: str, url: str) -> str:
    return (
        f"no index matches '{index}' in {store} at {url}: no logs are stored there, so nothing was "
        f"searched; check settings {store}.index and the log shipper"
    )


def _query(args: LogsSearchArgs, start: datetime, end: datetime) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"range": {TIME: {"gte": iso(start), "lte": iso(end), "format": "strict_date_optional_time"}}}
    ]
    if args.service:
        filters.append({"term": {SERVICE: args.service}})
    if args.namespace:
        filters.append({"term": {NAMESPACE: args.namespace}})
    if args.pod:
        filters.append({"prefix": {POD: args.pod}})
    if args.level:
        filters.append({"terms": {LEVEL: spellings(args.level)}})
    must = [{"match": {MESSAGE: {"query": args.query, "operator": "and"}}}] if args.query else []
    return {"bool": {"filter": filters, "must": must}}


def _get(source: dict[str, Any], dotted: str) -> Any:
    """A field from a document, nested ({"log": {"level": ...}}) or flat ({"log.level": ...})."""
    if dotted in source:
        return source[dotted]
    value: Any = source
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _line(source: dict[str, Any]) -> dict[str, Any]:
    return line(_get(source, TIME), _get(source, LEVEL), _get(source, SERVICE), _get(source, POD),
                _get(source, MESSAGE))


def _bucket(b: dict[str, Any]) -> dict[str, Any]:
    last = (b.get("last", {}).get("hits", {}).get("hits") or [{}])[0].get("_source", {})
    return bucket(b["key"], b["doc_count"], _get(last, LEVEL), _get(last, SERVICE), _get(last, TIME))


def refused(invocation: str, store: str, settings: IndexSettings, question: str, status: Any, body: Any,
            fallback: str) -> ToolResult:
    """The error for a store's error answer: a missing index named as such, else the store's own words."""
    kind, why = _reason(status, body, fallback)
    if kind == "index_not_found_exception":
        return failed(invocation, no_index(store, settings.index, settings.url))
    return failed(invocation, f"{store} at {settings.url} refused {question}: {why}")


def _reason(status: Any, body: Any, fallback: str) -> tuple[str, str]:
    """(error type, 'HTTP status type: reason') from an error answer's body, as both stores shape it."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type", "") if isinstance(error, dict) else str(fallback)
    why = error.get("reason", "") if isinstance(error, dict) else error or ""
    return kind, clip(f"HTTP {status} {kind}: {why}".rstrip(": "), 300)


def answered(ctx: ToolContext, args: LogsSearchArgs, invocation: str, start: datetime, end: datetime,
             store: str, settings: IndexSettings, response: dict[str, Any]) -> ToolResult:
    """The tool's result from a store's answer to `request`."""
    found = read(response, settings.index)
    if found is None:
        return failed(invocation, no_index(store, settings.index, settings.url))
    return answer(ctx, args, invocation, {"index": settings.index}, f"index {settings.index} at {settings.url}",
                  start, end, found)


def asked(args: LogsSearchArgs, start: datetime, end: datetime, index: str) -> str:
    return f"a log search in index {index} ({describe(args, start, end)})"


def connection_reason(text: str) -> str:
    """Why a connection failed, from a client's message: 'connection refused' or its last clause."""
    if "refused" in text.lower():
        return "connection refused"
    return clip(text.rsplit("] ", 1)[-1] if "] " in text else text, 200)
