"""logs_search through the door, against the sandbox's Elasticsearch-API server loaded with crashloop-missing-env."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from elasticsearch import Elasticsearch

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox import es as sandbox_es
from sandbox import procs, scenario
from sandbox.manager import Sandbox
from tests.support.doors import SCENARIO, make_door
from tools.logs_index import LEVEL, SERVICE, TIME

FATAL = "config error: required environment variable DATABASE_URL is not set"
WIDE = "last 2h"  # wider than any document of the scenario, however long the session has been running


def times(result) -> list[datetime]:
    return [datetime.fromisoformat(h["time"].replace("Z", "+00:00")) for h in result.data["hits"]]


def test_finds_the_fatal_config_error_newest_first(door: Door, oncall: Caller) -> None:
    # a window as wide as the session: the suite can reach this test long after the scenario's logs were written
    result = door.run("logs_search", {"service": "checkout", "level": "error", "since": WIDE}, oncall)

    assert result.status == "success", result.error
    hits = result.data["hits"]
    assert hits and all(h["message"] == FATAL and h["level"] == "fatal" for h in hits)
    assert times(result) == sorted(times(result), reverse=True)
    assert len(hits) == 20  # the default limit
    assert result.data["by_message"][0]["message"] == FATAL


def test_counts_lines_by_message(door: Door, oncall: Caller) -> None:
    result = door.run("logs_search", {"service": "checkout", "level": "error", "since": WIDE, "limit": 5}, oncall)

    assert result.status == "success", result.error
    assert result.data["total"] == 60 and result.data["total_exact"]
    assert len(result.data["hits"]) == 5
    top = result.data["by_message"][0]
    assert (top["message"], top["count"], top["level"], top["service"]) == (FATAL, 60, "fatal", "checkout")
    assert top["last_seen"] == result.data["hits"][0]["time"]
    assert "5 newest of 60" in result.notice


def test_level_is_a_minimum(door: Door, oncall: Caller) -> None:
    every = door.run("logs_search", {"service": "checkout", "since": WIDE, "limit": 1}, oncall)
    fatal = door.run("logs_search", {"service": "checkout", "level": "fatal", "since": WIDE, "limit": 1}, oncall)
    info = door.run("logs_search", {"service": "checkout", "level": "info", "since": WIDE, "limit": 1}, oncall)

    assert every.data["total"] == 121  # 60 fatal + 60 "starting version=1.5.0" + 1 "starting version=1.4.2"
    assert fatal.data["total"] == 60
    assert info.data["total"] == 121


def test_a_shorter_range_finds_fewer_lines(door: Door, oncall: Caller) -> None:
    args = {"service": "checkout", "level": "error"}
    wide = door.run("logs_search", {**args, "since": WIDE}, oncall)
    newest = max(times(wide))  # the five minutes before the newest line, however long ago it was loaded
    since = (newest - timedelta(minutes=5)).isoformat()
    recent = door.run("logs_search", {**args, "since": since}, oncall)

    assert recent.status == wide.status == "success"
    assert 0 < recent.data["total"] < wide.data["total"] == 60


def test_an_iso_until_in_the_past_cuts_the_newest_lines(door: Door, oncall: Caller) -> None:
    wide = door.run("logs_search", {"service": "checkout", "level": "error", "since": WIDE}, oncall)
    until = max(times(wide)) - timedelta(minutes=10)  # however long ago the scenario was loaded
    result = door.run(
        "logs_search",
        {"service": "checkout", "level": "error", "since": WIDE, "until": until.isoformat()},
        oncall,
    )

    assert result.status == "success", result.error
    assert 0 < result.data["total"] < 60
    assert all(t <= until for t in times(result))


def test_service_and_namespace_filters(door: Door, oncall: Caller) -> None:
    cart = door.run("logs_search", {"service": "cart", "namespace": "shop", "level": "warn", "since": WIDE}, oncall)
    payments = door.run("logs_search", {"namespace": "payments", "since": WIDE}, oncall)

    assert cart.status == "success", cart.error
    assert {h["service"] for h in cart.data["hits"]} == {"cart"}
    assert [(b["message"], b["count"]) for b in cart.data["by_message"]] == [
        ("upstream checkout unavailable: connection refused", 40)
    ]
    assert payments.status == "no_data"


def test_text_query_matches_words_of_the_message(door: Door, oncall: Caller) -> None:
    result = door.run("logs_search", {"query": "connection refused", "since": WIDE}, oncall)

    assert result.status == "success", result.error
    assert result.data["total"] == 40
    assert {h["service"] for h in result.data["hits"]} == {"cart"}


def test_nothing_matched_says_what_was_searched_and_where(door: Door, oncall: Caller, settings: Settings) -> None:
    result = door.run("logs_search", {"service": "checkout", "query": "segfault"}, oncall)

    assert result.status == "no_data"
    assert result.data is None
    for part in ("text 'segfault'", "service=checkout", "logs-*", settings.elasticsearch.url, "from "):
        assert part in result.notice
    assert "healthy" not in result.notice


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"since": "a while back"}, "'a while back' is not a time"),
        ({"since": "last 5m", "until": "last 10m"}, "the time range is empty"),
        ({"level": "critical"}, "invalid arguments for logs_search: level"),
        ({"limit": 1000}, "invalid arguments for logs_search: limit"),
        ({"grep": "x"}, "grep: is not an argument of this tool"),
    ],
)
def test_bad_arguments_are_errors_the_caller_can_fix(door: Door, oncall: Caller, args: dict, expected: str) -> None:
    result = door.run("logs_search", args, oncall)

    assert result.status == "error"
    assert expected in result.error


def test_unreachable_elasticsearch_is_an_error_naming_it(down_door: Door, oncall: Caller, dead_url: str) -> None:
    result = down_door.run("logs_search", {"service": "checkout"}, oncall)

    assert result.status == "error"
    assert result.error.startswith(f"could not reach elasticsearch at {dead_url} for a log search in index logs-*")
    assert "connection refused" in result.error


@pytest.mark.parametrize("index", ["nosuch-*", "nosuch"])
def test_an_index_that_does_not_exist_is_named(settings: Settings, oncall: Caller, index: str) -> None:
    door = make_door(settings.model_copy(update={"elasticsearch": settings.elasticsearch.model_copy(update={"index": index})}))

    result = door.run("logs_search", {"service": "checkout"}, oncall)

    assert result.status == "error"
    assert f"no index matches '{index}' in elasticsearch at {settings.elasticsearch.url}" in result.error


def test_every_call_is_audited(door: Door, down_door: Door, oncall: Caller) -> None:
    door.run("logs_search", {"service": "checkout", "level": "error", "since": WIDE}, oncall)
    door.run("logs_search", {"query": "segfault"}, oncall)
    door.run("logs_search", {"since": "when the moon is blue"}, oncall)
    down_door.run("logs_search", {"service": "cart"}, oncall)

    records = door.audit.query(action="logs_search")
    assert [(r.status, r.identity, r.kind) for r in records] == [
        ("success", "cli:tester", "tool_call"),
        ("no_data", "cli:tester", "tool_call"),
        ("error", "cli:tester", "tool_call"),
    ]
    assert records[0].target == "checkout" and records[0].args == {"service": "checkout", "level": "error",
                                                                    "since": WIDE}
    [down] = down_door.audit.query(action="logs_search")
    assert down.status == "error" and "could not reach elasticsearch" in down.summary


def test_the_loader_indexes_every_repeated_document(sandbox: Sandbox, settings: Settings) -> None:
    loaded = scenario.load(SCENARIO)
    expected = sum(d.repeat.count if d.repeat else 1 for d in loaded.logs.documents)
    client = Elasticsearch(settings.elasticsearch.url, max_retries=0)

    assert expected == 261
    assert client.count(index=loaded.logs.index)["count"] == expected
    fatal = client.search(
        index=loaded.logs.index, size=2, sort=[{TIME: "desc"}],
        query={"bool": {"filter": [{"term": {SERVICE: "checkout"}}, {"term": {LEVEL: "fatal"}}]}},
    )
    newest, second = (datetime.fromisoformat(h["_source"][TIME]) for h in fatal["hits"]["hits"])
    assert newest - second == timedelta(seconds=25)  # repeat.every


def test_reloading_replaces_earlier_logs_indices(sandbox: Sandbox, settings: Settings) -> None:
    loaded = scenario.load(SCENARIO)
    client = Elasticsearch(settings.elasticsearch.url, max_retries=0)
    client.indices.create(index="logs-stale")
    client.index(index="logs-stale", document={"message": "left over"}, refresh=True)

    count = sandbox_es.load(sandbox.ports().elasticsearch, loaded, datetime.now().timestamp())

    assert count == 261
    assert list(client.indices.get(index="logs-*")) == [loaded.logs.index]
    assert client.count(index="logs-*")["count"] == 261


@pytest.fixture(scope="module")
def own_es(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A second server of the module's own, so the session's sandbox keeps its data; it stops at the end."""
    state = tmp_path_factory.mktemp("own-es")
    port = procs.free_port()
    sandbox_es.start(state, port)
    yield port
    assert procs.stop("elasticsearch", state)
    assert not procs.port_open(port)


@pytest.mark.parametrize("name", scenario.shipped())
def test_every_shipped_scenario_loads_into_a_server_of_its_own(own_es: int, name: str) -> None:
    """One after the other into the same server: each load leaves only its own documents."""
    loaded = scenario.load(name)
    count = sandbox_es.load(own_es, loaded, datetime.now().timestamp())
    client = Elasticsearch(f"http://127.0.0.1:{own_es}", max_retries=0)
    assert count == client.count(index="logs-*")["count"]
    assert count == sum(d.repeat.count if d.repeat else 1 for d in loaded.logs.documents)


def test_expand_goes_back_from_at() -> None:
    doc = scenario.LogDocument(at="-30s", service="s", namespace="n", message="m", repeat={"count": 3, "every": "25s"})

    stamps = [d["@timestamp"] for d in sandbox_es.expand(doc, t0=1_800_000_000.0)]

    assert stamps == ["2027-01-15T07:59:30.000Z", "2027-01-15T07:59:05.000Z", "2027-01-15T07:58:40.000Z"]


def test_the_official_client_talks_to_the_server_unchanged(door: Door, settings: Settings) -> None:
    client = door.ctx.backends.elasticsearch

    assert type(client) is Elasticsearch
    assert not any(k.lower() in ("accept", "content-type") for k in client._headers)  # no header rewriting
    assert client.info()["version"]["number"] == "8.15.3"  # passes the client's product check
    # What the client sends on every request, and the server must accept (osmem-server answers 406):
    answer = httpx.get(
        settings.elasticsearch.url,
        headers={"Accept": "application/vnd.elasticsearch+json; compatible-with=9"},
    )
    assert answer.status_code == 200
    assert answer.headers["X-Elastic-Product"] == "Elasticsearch"


def test_a_spoken_start_is_resolved_and_shown(door: Door, oncall: Caller) -> None:
    r = door.run("logs_search", {"service": "checkout", "level": "error", "since": "yesterday"}, oncall)
    assert r.status == "success", r.error
    yesterday = (door.ctx.now() - timedelta(days=1)).date()
    assert r.data["since"].startswith(yesterday.isoformat()), "the window the words resolved to is in the answer"
    bad = door.run("logs_search", {"service": "checkout", "since": "when the moon is blue"}, oncall)
    assert bad.status == "error" and "'last Thursday'" in bad.error


def _on(settings: Settings, url: str, **es: object) -> Settings:
    return settings.model_copy(update={"elasticsearch": settings.elasticsearch.model_copy(update={"url": url, **es})})


def test_an_elasticsearch_8_server_is_asked_as_8_accepts(settings: Settings, oncall: Caller) -> None:
    from tests.support.chatkit import served
    from tests.support.fake_es_versions import es8

    with served(es8(settings.elasticsearch.url)) as node:
        found = make_door(_on(settings, node.url)).run("logs_search", {"service": "checkout", "level": "error"}, oncall)
        assert found.status == "success", found.error
        assert found.data["by_message"][0]["message"] == FATAL

        # the 9.x client's own media types, as every 8.x node refuses them: what opsbot avoids above
        refused = make_door(_on(settings, node.url, server_major=9)).run("logs_search", {"service": "checkout"},
                                                                         oncall)
        assert refused.status == "error" and "media_type_header_exception" in refused.error


def test_an_index_without_message_keyword_still_groups_and_says_how(settings: Settings, oncall: Caller) -> None:
    from tests.support.chatkit import served
    from tests.support.fake_es_versions import es8

    with served(es8(settings.elasticsearch.url, unmapped=frozenset({"message.keyword"}))) as node:
        r = make_door(_on(settings, node.url)).run("logs_search", {"service": "checkout", "limit": 30}, oncall)
    assert r.status == "success", r.error
    counted = {b["message"]: b["count"] for b in r.data["by_message"]}
    shown = [h["message"] for h in r.data["hits"]]
    assert counted == {m: shown.count(m) for m in set(shown)}, "counted over the lines shown"
    assert "index logs-* has no message.keyword field to count every matching line" in r.notice
