"""Servers in front of the sandbox's Elasticsearch-API server that answer as other versions do:
- `es8(upstream)`: an Elasticsearch 8.x node. GET / reports 8.15.3; a request whose Accept or Content-Type asks
  for `compatible-with=` anything but 7 or 8 gets the 400 `media_type_header_exception` an 8.x node sends (the
  9.x client's default); the rest is passed to the upstream server. With `unmapped` fields (as in an ECS index,
  where `message` is text only and has no `message.keyword`), a terms aggregation on one of them finds no
  buckets and no error, as Elasticsearch answers for an unmapped field.
(OpenSearch itself is tested against a real OpenSearch-API server: tests/support/opensearch.py.)
"""

from __future__ import annotations

import json
import re

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

COMPAT = re.compile(r"compatible-with=(\d+)")
PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


def _media_type_error(accept: str, content_type: str, found: str) -> JSONResponse:
    cause = (f"Accept version must be either version 8 or 7, but found {found}. Accept={accept}"
             if COMPAT.search(accept) else
             f"Content-Type version must be either version 8 or 7, but found {found}. Content-Type={content_type}")
    reason = "Invalid media-type value on headers [Accept, Content-Type]"
    body = {"error": {"root_cause": [{"type": "media_type_header_exception", "reason": reason}],
                      "type": "media_type_header_exception", "reason": reason,
                      "caused_by": {"type": "status_exception", "reason": cause}}, "status": 400}
    return JSONResponse(body, 400, headers=PRODUCT)


def _unmapped_aggs(body: bytes, answer: bytes, unmapped: set[str]) -> bytes:
    try:
        asked, got = json.loads(body or b"{}"), json.loads(answer)
    except ValueError:
        return answer
    for name, agg in (asked.get("aggs") or asked.get("aggregations") or {}).items():
        if (agg.get("terms") or {}).get("field") in unmapped and name in (got.get("aggregations") or {}):
            got["aggregations"][name] = {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []}
    return json.dumps(got).encode()


def es8(upstream: str, unmapped: frozenset[str] = frozenset()) -> FastAPI:
    api = FastAPI()
    client = httpx.Client(base_url=upstream, timeout=10)

    @api.api_route("/{path:path}", methods=["GET", "POST", "PUT", "HEAD", "DELETE"])
    async def node(path: str, request: Request) -> Response:
        accept, content_type = request.headers.get("accept", ""), request.headers.get("content-type", "")
        for header in (accept, content_type):
            m = COMPAT.search(header)
            if m and m.group(1) not in ("7", "8"):
                return _media_type_error(accept, content_type, m.group(1))
        if path == "" and request.method == "GET":
            return JSONResponse({"name": "es8-node", "cluster_name": "logs", "version": {
                "number": "8.15.3", "build_flavor": "default", "lucene_version": "9.11.1",
                "minimum_wire_compatibility_version": "7.17.0"}, "tagline": "You Know, for Search"}, headers=PRODUCT)
        body = await request.body()
        r = client.request(request.method, f"/{path}", params=request.query_params, content=body,
                           headers={"content-type": "application/json", "accept": "application/json"})
        answer = _unmapped_aggs(body, r.content, set(unmapped)) if path.endswith("_search") else r.content
        return Response(answer, r.status_code, headers=PRODUCT, media_type="application/json")

    return api
