"""logs_search's reader for Elasticsearch, through the official client: the shared query, its errors in words."""

from __future__ import annotations

from datetime import datetime

from elasticsearch import ApiError, ConnectionTimeout, Elasticsearch, UnsupportedProductError
from elasticsearch import ConnectionError as ESConnectionError

from tools.base import BackendError, ToolResult
from tools.context import ToolContext
from tools.log_lines import LogsSearchArgs, failed
from tools.logs_index import answered, asked, connection_reason, refused, request

STORE = "elasticsearch"


def search(ctx: ToolContext, args: LogsSearchArgs, invocation: str, start: datetime, end: datetime) -> ToolResult:
    settings = ctx.settings.elasticsearch
    index, url, question = settings.index, settings.url, asked(args, start, end, settings.index)
    es: Elasticsearch = ctx.backends.elasticsearch
    body = request(args, start, end)
    try:
        response = es.search(index=index, query=body["query"], sort=body["sort"], size=body["size"],
                             source=body["_source"], aggs=body["aggs"]).body
    except ConnectionTimeout:
        raise BackendError(STORE, url, question, f"no answer within {settings.timeout_s:g}s") from None
    except ESConnectionError as e:
        raise BackendError(STORE, url, question, connection_reason(str(e.message))) from None
    except UnsupportedProductError:
        return failed(invocation, f"the server at {url} is not Elasticsearch (the client's product check failed)")
    except ApiError as e:
        return refused(invocation, STORE, settings, question, e.status_code, e.body, str(e.message))
    return answered(ctx, args, invocation, start, end, STORE, settings, response)
