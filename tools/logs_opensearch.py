"""logs_search's reader for OpenSearch, through its own client (opensearch-py, imported here, when first used):
the query Elasticsearch gets (tools/logs_index.py), its errors in words."""

from __future__ import annotations

from datetime import datetime

from opensearchpy import ConnectionTimeout, TransportError
from opensearchpy import ConnectionError as OSConnectionError

from tools.base import BackendError, ToolResult
from tools.context import ToolContext
from tools.log_lines import LogsSearchArgs
from tools.logs_index import answered, asked, connection_reason, refused, request

STORE = "opensearch"


def search(ctx: ToolContext, args: LogsSearchArgs, invocation: str, start: datetime, end: datetime) -> ToolResult:
    settings = ctx.settings.opensearch
    index, url, question = settings.index, settings.url, asked(args, start, end, settings.index)
    try:
        response = ctx.backends.opensearch.search(index=index, body=request(args, start, end))
    except ConnectionTimeout:
        raise BackendError(STORE, url, question, f"no answer within {settings.timeout_s:g}s") from None
    except OSConnectionError as e:
        raise BackendError(STORE, url, question, connection_reason(str(e.info or e.error))) from None
    except TransportError as e:
        return refused(invocation, STORE, settings, question, e.status_code, e.info, str(e.error))
    return answered(ctx, args, invocation, start, end, STORE, settings, response)
