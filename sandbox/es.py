"""The sandbox's Elasticsearch-API server (noida-db) and the loading of a scenario's log documents.

Document shape (ECS field names, the shape Filebeat and Elastic Agent ship, and the one tools/logs.py reads):

    @timestamp            date     ISO 8601 UTC with milliseconds, "2026-11-22T10:00:00.000Z"
    message               text     full-text searchable; message.keyword (keyword) for counting by message
    log.level             keyword  debug | info | warn | error | fatal (lower case)
    service.name          keyword
    kubernetes.namespace  keyword
    kubernetes.pod.name   keyword  only when the scenario names a pod
    labels.*              dynamic  the scenario document's `fields`, as given

A scenario document with `repeat: {count: N, every: D}` becomes N documents at `at`, `at - D`, `at - 2D`, ...
Loading deletes every `logs-*` index first, so one scenario's logs never mix with the previous one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from sandbox import procs
from sandbox.scenario import LogDocument, Scenario, offset

NAME = "elasticsearch"
STALE_PATTERN = "logs-*"
_KEYWORD = {"type": "keyword"}

MAPPINGS: dict[str, Any] = {
    "dynamic": True,
    "properties": {
        "@timestamp": {"type": "date"},
        # noida-db, unlike Elasticsearch, lets a terms aggregation run on a text field, but it then counts
        # analysed tokens ("config", "error", ...), not whole lines: always aggregate on message.keyword.
        "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 2048}}},
        "log": {"properties": {"level": _KEYWORD}},
        "service": {"properties": {"name": _KEYWORD}},
        "kubernetes": {"properties": {"namespace": _KEYWORD, "pod": {"properties": {"name": _KEYWORD}}}},
        "labels": {"type": "object", "dynamic": True},
    },
}


def _binary() -> Path:
    """The server binary shipped in the noida-db wheel (run directly, so its pid is the server's)."""
    try:
        path = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        raise procs.SandboxError(f"{NAME}: the sandbox needs the 'sandbox' extra (pip install "
                                 "'opsbot-oncall[sandbox]'), which scripts/bootstrap.sh installs") from None
    if not path.is_file():
        raise procs.SandboxError(f"{NAME}: noida-db's binary is missing at {path}; run scripts/bootstrap.sh")
    return path


def _client(port: int) -> Elasticsearch:
    return Elasticsearch(f"http://127.0.0.1:{port}", request_timeout=10, max_retries=0)


def start(state_dir: Path, port: int) -> None:
    """Run noida-db with only its Elasticsearch API on loopback:port, data in state_dir/elasticsearch-data."""
    data_dir = state_dir / "elasticsearch-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(_binary()), "start", "--data-dir", str(data_dir), "--host", "127.0.0.1",
        "--only", "elasticsearch", "--elasticsearch-port", str(port),
    ]
    pid = procs.start(NAME, argv, state_dir)
    client = _client(port).options(request_timeout=0.5)

    def ready() -> bool:
        try:
            return bool(client.info())  # GET /; also runs the client's product check
        except (TransportError, ApiError):
            return False

    procs.wait_until(NAME, ready, pid, state_dir)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expand(doc: LogDocument, t0: float) -> Iterator[dict[str, Any]]:
    """One scenario log entry as the documents it stands for, newest first."""
    at = datetime.fromtimestamp(t0, UTC) + offset(doc.at)
    count, every = (doc.repeat.count, offset(doc.repeat.every)) if doc.repeat else (1, timedelta(0))
    base: dict[str, Any] = {
        "message": doc.message,
        "log": {"level": doc.level},
        "service": {"name": doc.service},
        "kubernetes": {"namespace": doc.namespace, **({"pod": {"name": doc.pod}} if doc.pod else {})},
    }
    if doc.fields:
        base["labels"] = doc.fields
    for i in range(count):
        yield {"@timestamp": _iso(at - i * abs(every)), **base}


def load(port: int, scenario: Scenario, t0: float) -> int:
    """Replace all logs-* indices with the scenario's index and documents, searchable on return."""
    client = _client(port)
    index = scenario.logs.index
    try:
        # Elasticsearch refuses wildcard deletes by default (action.destructive_requires_name), and so
        # does noida-db: list the matching indices, then delete them by name.
        for name in client.indices.get(index=STALE_PATTERN, allow_no_indices=True, expand_wildcards="all"):
            client.indices.delete(index=name)
        if client.indices.exists(index=index):  # an index outside logs-* from an earlier load
            client.indices.delete(index=index)
        client.indices.create(index=index, mappings=MAPPINGS)
        actions = (
            {"_index": index, "_source": source}
            for doc in scenario.logs.documents
            for source in expand(doc, t0)
        )
        indexed, errors = helpers.bulk(client, actions, refresh=True, raise_on_error=False)
    except (TransportError, ApiError) as e:
        raise procs.SandboxError(f"{NAME}: loading {scenario.name!r} into {index} failed: {e}") from None
    finally:
        client.close()
    if errors:
        raise procs.SandboxError(f"{NAME}: {len(errors)} documents of {scenario.name!r} were refused: {errors[:3]}")
    return indexed
