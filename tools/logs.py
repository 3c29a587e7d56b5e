"""logs_search: the newest matching log lines and how often each message occurs, from the store `logs.backend`
names (Elasticsearch, OpenSearch or Loki); every store answers in the one shape of tools/log_lines.py."""

from __future__ import annotations

from tools.base import ToolResult, tool
from tools.context import ToolContext
from tools.log_lines import LogsSearchArgs
from tools.timerange import parse_range


@tool("logs")
def logs_search(ctx: ToolContext, args: LogsSearchArgs) -> ToolResult:
    """Search the logs: the newest matching lines first, the total count, and the most frequent messages
    with their counts (message ×count). Filter by text, service,
    namespace, pod, minimum level and time range (default: the last 30 minutes). An empty answer means
    nothing matched these filters in this range, not that the service is healthy."""
    start, end = parse_range(args.since, args.until, ctx.now())
    invocation = logs_search.summary(args)
    backend = ctx.settings.logs.backend
    # each store's client is imported when its store is searched, never by `opsbot --help`
    if backend == "loki":
        from tools.logs_loki import search
    elif backend == "opensearch":
        from tools.logs_opensearch import search
    else:
        from tools.logs_elasticsearch import search
    return search(ctx, args, invocation, start, end)


TOOLS = [logs_search]
