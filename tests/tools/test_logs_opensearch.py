"""logs_search with `logs.backend: opensearch`, through opensearch-py, against a real OpenSearch-API server
(osmem-server) loaded with the same scenario as the sandbox's Elasticsearch-API server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from bot.guard.door import Caller
from bot.settings import Settings
from sandbox import scenario
from tests.support import opensearch as osmem
from tests.support.doors import SCENARIO, make_door

WIDE = "last 2h"
QUESTIONS = [
    {"service": "checkout", "level": "error", "since": WIDE, "limit": 5},
    {"service": "cart", "namespace": "shop", "level": "warn", "since": WIDE},
    {"query": "connection refused", "since": WIDE, "limit": 7},
]


@pytest.fixture(scope="module")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with osmem.opensearch(tmp_path_factory.mktemp("opensearch")) as url:
        assert osmem.load(url, scenario.load(SCENARIO), time.time()) == 261
        yield url


def _on_opensearch(settings: Settings, url: str, **section: object) -> Settings:
    return settings.model_copy(update={
        "logs": settings.logs.model_copy(update={"backend": "opensearch"}),
        "opensearch": settings.opensearch.model_copy(update={"url": url, **section})})


def _lines(data: dict) -> list[tuple]:
    return sorted((h["level"], h["service"], h.get("pod"), h["message"]) for h in data["hits"])


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()))
def test_opensearch_answers_as_elasticsearch_does(settings: Settings, opensearch_url: str, oncall: Caller,
                                                  question: dict) -> None:
    from_es = make_door(settings).run("logs_search", question, oncall)
    from_os = make_door(_on_opensearch(settings, opensearch_url)).run("logs_search", question, oncall)

    assert from_es.status == from_os.status == "success", (from_es.error, from_os.error)
    es, os_ = from_es.data, from_os.data
    assert set(os_) == set(es) and os_["index"] == "logs-*"
    assert (os_["total"], os_["total_exact"], os_["other_messages_count"]) == \
        (es["total"], es["total_exact"], es["other_messages_count"])
    assert _lines(os_) == _lines(es)  # loaded at another instant: the same lines, at times shifted alike
    times = [h["time"] for h in os_["hits"]]
    assert times == sorted(times, reverse=True)
    assert [(b["message"], b["count"], b["level"], b["service"]) for b in os_["by_message"]] == \
        [(b["message"], b["count"], b["level"], b["service"]) for b in es["by_message"]]
    assert from_os.notice == from_es.notice


def test_the_client_is_opensearchs_own(settings: Settings, opensearch_url: str) -> None:
    client = make_door(_on_opensearch(settings, opensearch_url)).ctx.backends.opensearch

    assert type(client) is OpenSearch
    assert client.info()["version"]["distribution"] == "opensearch"


def test_an_index_that_does_not_exist_is_named(settings: Settings, opensearch_url: str, oncall: Caller) -> None:
    for index in ("nosuch", "nosuch-*"):
        r = make_door(_on_opensearch(settings, opensearch_url, index=index)).run("logs_search", {}, oncall)
        assert r.status == "error"
        assert r.error.startswith(f"no index matches '{index}' in opensearch at {opensearch_url}")
        assert "check settings opensearch.index" in r.error


def test_an_opensearch_that_is_down_is_an_error_naming_it(settings: Settings, oncall: Caller, dead_url: str) -> None:
    r = make_door(_on_opensearch(settings, dead_url)).run("logs_search", {"service": "checkout"}, oncall)

    assert r.status == "error"
    assert r.error.startswith(f"could not reach opensearch at {dead_url} for a log search in index logs-*")
    assert r.error.endswith("connection refused")


def test_elasticsearch_url_at_opensearch_says_what_to_set(settings: Settings, opensearch_url: str,
                                                          oncall: Caller) -> None:
    wrong = settings.model_copy(update={"elasticsearch": settings.elasticsearch.model_copy(
        update={"url": opensearch_url})})
    r = make_door(wrong).run("logs_search", {"service": "checkout"}, oncall)

    assert r.status == "error"
    assert r.error == (f"elasticsearch.url ({opensearch_url}) is OpenSearch 3.8.0, which the Elasticsearch client "
                       f"refuses (its product check fails): set logs.backend: opensearch and opensearch.url: "
                       f"{opensearch_url}")
