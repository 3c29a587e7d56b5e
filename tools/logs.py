"""Log search in Elasticsearch: newest lines first, plus how often each message occurs.

Reads ECS-shaped documents (see sandbox/es.py): @timestamp, message (text, with message.keyword), log.level,
service.name, kubernetes.namespace, kubernetes.pod.name. Dotted keys stored flat are read as well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import ApiError, ConnectionTimeout, Elasticsearch, UnsupportedProductError
from elasticsearch import ConnectionError as ESConnectionError
from pydantic import Field

from tools.base import Args, BackendError, Status, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_secret_values import mask_secret_values
from tools.timerange import parse_range

TIME, MESSAGE, MESSAGE_KEYWORD = "@timestamp", "message", "message.keyword"
LEVEL, SERVICE, NAMESPACE, POD = "log.level", "service.name", "kubernetes.namespace", "kubernetes.pod.name"

Level = Literal["debug", "info", "warn", "error", "fatal"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warn", "error", "fatal")
_ALIASES: dict[str, tuple[str, ...]] = {"warn": ("warning",), "fatal": ("critical",)}
MAX_MESSAGE_CHARS = 300
TOP_MESSAGES = 10


class LogsSearchArgs(Args):
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


@tool("elasticsearch")
def logs_search(ctx: ToolContext, args: LogsSearchArgs) -> ToolResult:
    """Search the logs: the newest matching lines first, the total count, and the most frequent messages
    with their counts (message ×count). Filter by text, service,
    namespace, pod, minimum level and time range (default: the last 30 minutes). An empty answer means
    nothing matched these filters in this range, not that the service is healthy."""
    settings = ctx.settings.elasticsearch
    index, url = settings.index, settings.url
    start, end = parse_range(args.since, args.until, ctx.now())
    invocation = logs_search.summary(args)
    asked = f"a log search in index {index} ({_describe(args, start, end)})"
    es: Elasticsearch = ctx.backends.elasticsearch
    try:
        response = es.search(
            index=index,
            query=_query(args, start, end),
            sort=[{TIME: {"order": "desc"}}],
            size=args.limit,
            source=[TIME, MESSAGE, LEVEL, SERVICE, NAMESPACE, POD],
            # A server-side terms aggregation on the keyword sub-field: exact counts over every match,
            # not a sample (noida-db supports it; on the text field it would count words, not lines).
            aggs={
                "by_message": {
                    "terms": {"field": MESSAGE_KEYWORD, "size": TOP_MESSAGES},
                    "aggs": {"last": {"top_hits": {"size": 1, "sort": [{TIME: {"order": "desc"}}],
                                                   "_source": [TIME, LEVEL, SERVICE]}}},
                }
            },
        ).body
    except ConnectionTimeout:
        raise BackendError("elasticsearch", url, asked, f"no answer within {settings.timeout_s:g}s") from None
    except ESConnectionError as e:
        raise BackendError("elasticsearch", url, asked, _connection_reason(e)) from None
    except UnsupportedProductError:
        return _failed(invocation, f"the server at {url} is not Elasticsearch (the client's product check failed)")
    except ApiError as e:
        if _error_type(e) == "index_not_found_exception":
            return _failed(invocation, _no_index(index, url))
        return _failed(invocation, f"elasticsearch at {url} refused {asked}: {_api_reason(e)}")

    shards = response.get("_shards", {})
    if shards.get("total") == 0:  # a pattern that matches no index searches nothing and finds nothing
        return _failed(invocation, _no_index(index, url))
    total = response["hits"]["total"]
    if total["value"] == 0:
        return empty(
            "logs_search", invocation,
            f"no logs matched {_describe(args, start, end)} in index {index} at {url}; that is not a sign "
            "of health: widen the time range or drop a filter",
        )
    hits = [_line(h["_source"]) for h in response["hits"]["hits"]]
    agg = response.get("aggregations", {}).get("by_message", {})
    notes = []
    if hits and not agg.get("buckets"):  # no keyword sub-field to count on (ECS maps message as text only)
        agg = {"buckets": _grouped(hits), "sum_other_doc_count": None}
        notes.append(f"messages grouped from the {len(hits)} lines shown only: index {index} has no "
                     f"{MESSAGE_KEYWORD} field to count every matching line")
    data = {
        "index": index,
        "since": _iso(start),
        "until": _iso(end),
        "total": total["value"],
        "total_exact": total.get("relation", "eq") == "eq",
        "by_message": [_bucket(b) for b in agg.get("buckets", [])],
        "other_messages_count": agg.get("sum_other_doc_count", 0),
        "hits": hits,
    }
    if total["value"] > len(hits):
        shown = f"{total['value']}" if data["total_exact"] else f"at least {total['value']}"
        notes.append(f"showing the {len(hits)} newest of {shown} matching lines")
    if shards.get("failed"):
        notes.append(f"{shards['failed']} of {shards['total']} shards failed: counts may be incomplete")
    # a namespace's lines may print its Secrets' values: they are masked here, where they are read
    return ok("logs_search", invocation, mask_secret_values(ctx, args.namespace, data), "; ".join(notes) or None)


def _query(args: LogsSearchArgs, start: datetime, end: datetime) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"range": {TIME: {"gte": _iso(start), "lte": _iso(end), "format": "strict_date_optional_time"}}}
    ]
    if args.service:
        filters.append({"term": {SERVICE: args.service}})
    if args.namespace:
        filters.append({"term": {NAMESPACE: args.namespace}})
    if args.pod:
        filters.append({"prefix": {POD: args.pod}})
    if args.level:
        filters.append({"terms": {LEVEL: _spellings(args.level)}})
    must = [{"match": {MESSAGE: {"query": args.query, "operator": "and"}}}] if args.query else []
    return {"bool": {"filter": filters, "must": must}}


def _spellings(level: Level) -> list[str]:
    """The level and every one above it, as shippers spell them: 'warn'/'warning', lower and upper case."""
    names = [n for lvl in LEVELS[LEVELS.index(level):] for n in (lvl, *_ALIASES.get(lvl, ()))]
    return names + [n.upper() for n in names]


def _describe(args: LogsSearchArgs, start: datetime, end: datetime) -> str:
    parts = [f"text '{args.query}'"] if args.query else []
    parts += [f"{k}={v}" for k, v in (("service", args.service), ("namespace", args.namespace)) if v]
    if args.pod:
        parts.append(f"pod={args.pod}*")
    if args.level:
        parts.append(f"level>={args.level}")
    return f"{', '.join(parts) or 'any log line'} from {_iso(start)} to {_iso(end)}"


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


def _clip(text: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _line(source: dict[str, Any]) -> dict[str, Any]:
    """One hit; fields the document lacks (often the pod) are left out rather than shown as null."""
    line = {
        "time": _get(source, TIME),
        "level": _get(source, LEVEL),
        "service": _get(source, SERVICE),
        "pod": _get(source, POD),
        "message": _clip(_get(source, MESSAGE)),
    }
    return {k: v for k, v in line.items() if v is not None}


def _grouped(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Buckets as the terms aggregation gives them, counted over the lines at hand (newest first)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for h in hits:
        groups.setdefault(str(h.get("message")), []).append(h)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:TOP_MESSAGES]
    return [{"key": message, "doc_count": len(lines), "last": {"hits": {"hits": [{"_source": {
        TIME: lines[0].get("time"), LEVEL: lines[0].get("level"), SERVICE: lines[0].get("service")}}]}}}
            for message, lines in ranked]


def _bucket(bucket: dict[str, Any]) -> dict[str, Any]:
    last = (bucket.get("last", {}).get("hits", {}).get("hits") or [{}])[0].get("_source", {})
    return {
        "message": _clip(bucket["key"]),
        "count": bucket["doc_count"],
        "level": _get(last, LEVEL),
        "service": _get(last, SERVICE),
        "last_seen": _get(last, TIME),
    }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failed(invocation: str, error: str) -> ToolResult:
    return ToolResult(tool="logs_search", status=Status.error, invocation=invocation, error=error)


def _no_index(index: str, url: str) -> str:
    return (
        f"no index matches '{index}' in elasticsearch at {url}: no logs are stored there, so nothing was "
        "searched; check settings elasticsearch.index and the log shipper"
    )


def _error_type(e: ApiError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    error = body.get("error")
    return error.get("type", "") if isinstance(error, dict) else str(e.message)


def _api_reason(e: ApiError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    error = body.get("error")
    reason = error.get("reason", "") if isinstance(error, dict) else error or ""
    return _clip(f"HTTP {e.status_code} {_error_type(e)}: {reason}".rstrip(": "), 300)


def _connection_reason(e: ESConnectionError) -> str:
    text = str(e.message)
    if "refused" in text.lower():
        return "connection refused"
    return _clip(text.rsplit("] ", 1)[-1] if "] " in text else text, 200)


TOOLS = [logs_search]
