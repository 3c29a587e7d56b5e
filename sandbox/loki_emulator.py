"""A Loki HTTP API emulator for the sandbox: push, query_range and instant queries, with Loki's limits and errors.

No Grafana Loki can be installed here (Debian's `loki` package is a genetics program, and Loki's own Go module is
AGPL, which this project does not take), so this serves the endpoints opsbot calls, as Loki documents them:
- POST /loki/api/v1/push (JSON `{"streams": [{"stream": {labels}, "values": [["<ns>", "<line>"], ...]}]}`) → 204
- GET /loki/api/v1/query_range (query, start, end in ns, limit default 100, direction backward|forward): a log
  query's `streams` (start inclusive, end exclusive)
- GET /loki/api/v1/query (query, time in ns): a metric query's `vector`
- POST /loki/api/v1/delete (query: a stream selector with optional line filters, start required, end default
  now, in unix seconds) → 204: the matching lines in [start, end] are gone from every query at once, as Loki
  filters them from queries as soon as the request is made (it erases them later, which nothing here needs)
- GET /ready
Limits, with Loki's default values and words: max_entries_limit_per_query 5000, max_query_length 721h,
max_query_series 500. Errors are plain text with status 400, as Loki answers them. The LogQL it understands is
sandbox/logql.py's.
"""

from __future__ import annotations

import argparse
from time import time_ns
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sandbox.logql import Labels, LogQLError, LogQuery, MetricQuery, as_result, count, parse

MAX_ENTRIES = 5000
MAX_QUERY_LENGTH_S = 721 * 3600
MAX_SERIES = 500


def create_app() -> FastAPI:
    app = FastAPI(title="loki emulator")
    lines: list[tuple[Labels, int, str]] = []

    @app.exception_handler(LogQLError)
    async def refused(_: Request, e: LogQLError) -> Response:
        return PlainTextResponse(str(e), status_code=400)

    @app.get("/ready")
    async def ready() -> Response:
        return PlainTextResponse("ready")

    @app.post("/loki/api/v1/push")
    async def push(request: Request) -> Response:
        try:
            body = await request.json()
            for stream in body["streams"]:
                labels = {str(k): str(v) for k, v in stream["stream"].items()}
                lines.extend((labels, int(ns), str(text)) for ns, text in stream["values"])
        except (ValueError, KeyError, TypeError) as e:
            return PlainTextResponse(f"error parsing push request: {e}", status_code=400)
        return Response(status_code=204)

    @app.get("/loki/api/v1/query_range")
    async def query_range(query: str, start: int | None = None, end: int | None = None, limit: int = 100,
                          direction: str = "backward") -> Response:
        end = end if end is not None else time_ns()
        start = start if start is not None else end - 3600 * 10**9
        _check_length(end - start)
        parsed = parse(query)
        if isinstance(parsed, MetricQuery):
            raise LogQLError("this emulator answers metric queries at /loki/api/v1/query only")
        if limit > MAX_ENTRIES:
            raise LogQLError(f"max entries limit per query exceeded, limit > max_entries_limit ({limit} > "
                             f"{MAX_ENTRIES})")
        return _ok("streams", _streams(parsed, lines, start, end, limit, direction == "forward"))

    @app.post("/loki/api/v1/delete")
    async def delete(query: str, start: float, end: float | None = None) -> Response:
        parsed = parse(query)
        if isinstance(parsed, MetricQuery):
            raise LogQLError("invalid query: a delete request takes a log selector, not a metric query")
        first, last = int(start * 1e9), int((end if end is not None else time_ns() / 1e9) * 1e9)
        lines[:] = [(labels, ns, text) for labels, ns, text in lines
                    if not (first <= ns <= last and parsed.streams(labels) and parsed.run(labels, text) is not None)]
        return Response(status_code=204)

    @app.get("/loki/api/v1/query")
    async def instant(query: str, time: int | None = None) -> Response:  # noqa: A002 (Loki's parameter name)
        at = time if time is not None else time_ns()
        parsed = parse(query)
        if not isinstance(parsed, MetricQuery):
            raise LogQLError("log queries are not supported as an instant query type, please change your query "
                             "to a range query type")
        _check_length(int(parsed.range_s * 1e9))
        return _ok("vector", as_result(_limited(count(parsed, lines, at)), at))

    return app


def _streams(query: LogQuery, lines: list[tuple[Labels, int, str]], start: int, end: int, limit: int,
             forward: bool) -> list[dict[str, Any]]:
    """The newest (or oldest) `limit` matching lines in [start, end), grouped into streams by their labels."""
    kept = []
    for labels, ns, text in lines:
        if start <= ns < end and query.streams(labels):
            after = query.run(labels, text)
            if after is not None:
                kept.append((after, ns, text))
    kept.sort(key=lambda e: e[1], reverse=not forward)
    streams: dict[tuple, dict[str, Any]] = {}
    for labels, ns, text in kept[:limit]:
        key = tuple(sorted(labels.items()))
        streams.setdefault(key, {"stream": labels, "values": []})["values"].append([str(ns), text])
    return list(streams.values())


def _limited(series: dict[tuple, tuple[Labels, int]]) -> dict[tuple, tuple[Labels, int]]:
    if len(series) > MAX_SERIES:
        raise LogQLError(f"maximum of series ({MAX_SERIES}) reached for a single query")
    return series


def _check_length(length_ns: int) -> None:
    if length_ns > MAX_QUERY_LENGTH_S * 10**9:
        raise LogQLError(f"the query time range exceeds the limit (query length: {length_ns / 3.6e12:.0f}h, "
                         "limit: 30d1h)")


def _ok(kind: str, result: list[dict[str, Any]]) -> Response:
    return JSONResponse({"status": "success", "data": {"resultType": kind, "result": result, "stats": {}}})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.loki_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
