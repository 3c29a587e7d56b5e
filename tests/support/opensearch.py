"""An OpenSearch-API server for tests (osmem-server, which answers as OpenSearch 3.x) loaded with a scenario's logs
through OpenSearch's own client, as sandbox/es.py loads them into the Elasticsearch-API server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from opensearchpy import OpenSearch, helpers
from osmem_server import resolve_binary

from sandbox import es, procs
from sandbox.scenario import Scenario

NAME = "opensearch"


@contextmanager
def opensearch(state_dir: Path) -> Iterator[str]:
    """An OpenSearch-API server on a free loopback port for the `with` block; yields its URL."""
    port = procs.free_port()
    url = f"http://127.0.0.1:{port}"
    pid = procs.start(NAME, [resolve_binary(), "-addr", f"127.0.0.1:{port}", "-no-stdin-watch"], state_dir)

    def ready() -> bool:
        try:
            return httpx.get(url, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        procs.wait_until(NAME, ready, pid, state_dir)
        yield url
    finally:
        procs.stop(NAME, state_dir)


def load(url: str, scenario: Scenario, t0: float) -> int:
    client = OpenSearch(hosts=[url], max_retries=0)
    index = scenario.logs.index
    client.indices.create(index=index, body={"mappings": es.MAPPINGS})
    actions = ({"_index": index, "_source": source} for doc in scenario.logs.documents for source in es.expand(doc, t0))
    indexed, errors = helpers.bulk(client, actions, refresh=True, raise_on_error=False)
    assert not errors, errors[:3]
    return indexed
