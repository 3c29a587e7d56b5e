"""The Elasticsearch client made to fit the server it talks to: the server's major version asked once, an 8.x
server's requests sent with 8.x media types, OpenSearch refused in words (it fails the client's product check)."""

from __future__ import annotations

from typing import Any

import httpx
from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport._node._base import NodeApiResponse
from elastic_transport.client_utils import DEFAULT

from tools.base import BackendError


class Compat8Node(Urllib3HttpNode):
    """Sends the 9.x client's requests as an 8.x server accepts them (compatible-with=8)."""

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: HttpHeaders | None = None, request_timeout: Any = DEFAULT) -> NodeApiResponse:
        if headers:
            headers = headers.copy()
            for key in ("accept", "content-type"):
                if headers.get(key):
                    headers[key] = headers[key].replace("compatible-with=9", "compatible-with=8")
        return super().perform_request(method, target, body=body, headers=headers, request_timeout=request_timeout)


def server_major(url: str, auth: dict[str, Any], timeout_s: float) -> int | None:
    """The server's major version from GET / (plain JSON, which every version answers); None when it cannot
    be asked now (the searches then report the outage). OpenSearch raises OpenSearchRefused."""
    headers = {"Accept": "application/json"}
    if "api_key" in auth:
        headers["Authorization"] = f"ApiKey {auth['api_key']}"
    try:
        r = httpx.get(url, headers=headers, auth=auth.get("basic_auth"), timeout=timeout_s)
        version = r.json().get("version") or {}
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if version.get("distribution") == "opensearch":
        raise OpenSearchRefused(url, str(version.get("number")))
    number = str(version.get("number") or "")
    return int(number.split(".")[0]) if number.split(".")[0].isdigit() else None


class OpenSearchRefused(BackendError):
    """elasticsearch.url points at OpenSearch, which the Elasticsearch client cannot talk to: said as what to set."""

    def __init__(self, url: str, number: str):
        self.backend, self.url, self.asked = "elasticsearch", url, "the server's version"
        self.reason = (f"elasticsearch.url ({url}) is OpenSearch {number}, which the Elasticsearch client refuses "
                       f"(its product check fails): set logs.backend: opensearch and opensearch.url: {url}")
        Exception.__init__(self, self.reason)
