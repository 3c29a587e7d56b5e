"""Planting text where secrets turn up, for tests that search for it afterwards: checkout's pod logs, events and
extra objects in a Kubernetes emulator loaded with the test scenario, and log documents in Elasticsearch."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from bot.settings import Settings
from sandbox import es, k8s, scenario
from tests.support.doors import SCENARIO


def plant_cluster(state: Path, port: int, logs: list[str], previous_logs: list[str] | None = None,
                  events: list[str] | None = None, objects: list[dict[str, Any]] | None = None) -> None:
    """Reload the emulator with the scenario, checkout's pods also logging `logs` (and `previous_logs` in the
    crashed container), a Warning event on checkout per message of `events`, and `objects` (manifests)."""
    sc = scenario.load(SCENARIO)
    data = sc.model_dump(by_alias=True)
    cluster = data["cluster"]
    pods = cluster["deployments"][0]["revisions"][-1]["pods"]
    pods["logs"] = [*pods["logs"], *logs]
    pods["previous_logs"] = [*pods.get("previous_logs", []), *(previous_logs or [])]
    cluster["events"] = [*cluster.get("events", []), *({
        "kind": "Pod", "name": "checkout", "namespace": "shop", "type": "Warning", "reason": "FailedMount",
        "message": message} for message in events or [])]
    cluster["objects"] = [*cluster.get("objects", []), *(objects or [])]
    k8s.load(state, port, type(sc).model_validate(data), time.time())


@contextmanager
def planted_logs(settings: Settings, lines: list[str]) -> Iterator[Settings]:
    """`settings` reading a fresh index that holds each line as an error of service checkout in namespace
    shop, logged now; the index is deleted afterwards."""
    index = f"planted-{uuid.uuid4().hex[:8]}"
    client = Elasticsearch(settings.elasticsearch.url)
    client.indices.create(index=index, mappings=es.MAPPINGS)
    now = datetime.now(UTC).isoformat()
    helpers.bulk(client, [{"_index": index, "_source": {
        "@timestamp": now, "message": line, "log": {"level": "error"}, "service": {"name": "checkout"},
        "kubernetes": {"namespace": "shop"}}} for line in lines], refresh=True)
    try:
        yield settings.model_copy(update={"elasticsearch": settings.elasticsearch.model_copy(update={"index": index})})
    finally:
        client.indices.delete(index=index)
