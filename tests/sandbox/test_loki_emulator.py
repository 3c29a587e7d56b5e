"""The sandbox's Loki emulator refuses what Loki refuses, in Loki's words (status 400, plain text), so opsbot's
error paths meet Loki's answers, not the emulator's; a delete request takes the lines it selects out of every query,
and loading a scenario replaces the previous one's lines."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from bot.settings import Settings
from sandbox import loki, procs, scenario

NOW = time.time_ns()


@pytest.mark.parametrize(("path", "params", "words"), [
    ("query_range", {"query": '{app=~".*"}'}, "queries require at least one regexp or equality matcher that does "
                                               "not have an empty-compatible value"),
    ("query_range", {"query": '{app="cart"}', "limit": 5001}, "max entries limit per query exceeded, limit > "
                                                               "max_entries_limit (5001 > 5000)"),
    ("query_range", {"query": '{app="cart"}', "start": NOW - 722 * 3600 * 10**9, "end": NOW},
     "the query time range exceeds the limit (query length: 722h, limit: 30d1h)"),
    ("query", {"query": '{app="cart"}', "time": NOW}, "log queries are not supported as an instant query type"),
    ("query", {"query": 'sum(count_over_time({app="cart"} [5x]))', "time": NOW}, "not a valid duration string"),
    ("query", {"query": 'sum(count_over_time({app="cart"} |= [5m]))', "time": NOW}, "parse error"),
])
def test_refused_as_loki_refuses(settings: Settings, path: str, params: dict, words: str) -> None:
    r = httpx.get(f"{settings.loki.url}/loki/api/v1/{path}", params=params)

    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert words in r.text


@pytest.fixture(scope="module")
def own_loki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """An emulator of the module's own: these tests delete lines."""
    state = tmp_path_factory.mktemp("own-loki")
    port = procs.free_port()
    loki.start(state, port)
    yield port
    procs.stop(loki.NAME, state)


def _messages(port: int, query: str) -> list[str]:
    now = time.time_ns()
    r = httpx.get(f"{loki.url(port)}/loki/api/v1/query_range",
                  params={"query": query, "start": now - 24 * 3600 * 10**9, "end": now + 3600 * 10**9, "limit": 5000})
    assert r.status_code == 200, r.text
    return sorted(text for stream in r.json()["data"]["result"] for _, text in stream["values"])


def test_a_delete_request_takes_what_it_selects_out_of_every_query_at_once(own_loki: int) -> None:
    now = time.time()
    at = [str(int((now - ago) * 1e9)) for ago in (600, 300, 60)]
    pushed = httpx.post(f"{loki.url(own_loki)}/loki/api/v1/push", json={"streams": [
        {"stream": {"namespace": "shop", "app": "cart"}, "values": [[at[0], "token=abc old"], [at[1], "token=abc"],
                                                                    [at[2], "token=abc new"]]},
        {"stream": {"namespace": "shop", "app": "web"}, "values": [[at[1], "token=abc web"]]}]})
    assert pushed.status_code == 204, pushed.text

    deleted = httpx.post(f"{loki.url(own_loki)}/loki/api/v1/delete",
                         params={"query": '{app="cart"} |= "token"', "start": now - 400, "end": now - 30})

    assert deleted.status_code == 204, deleted.text
    assert _messages(own_loki, '{namespace="shop"}') == ["token=abc old", "token=abc web"], \
        "only the selected stream's lines inside [start, end] are gone"
    refused = httpx.post(f"{loki.url(own_loki)}/loki/api/v1/delete", params={"query": '{app=~".*"}', "start": 0})
    assert refused.status_code == 400 and "at least one regexp or equality matcher" in refused.text


def test_loading_a_scenario_replaces_the_previous_ones_lines(own_loki: int) -> None:
    first, second = scenario.load("crashloop-missing-env"), scenario.load("oom-memory-leak")
    loki.load(own_loki, first, time.time())

    loki.load(own_loki, second, time.time())

    left = set(_messages(own_loki, loki.EVERY_LINE))
    assert left == {d.message for d in second.logs.documents}
    assert {d.message for d in first.logs.documents} - left, "the first scenario's own lines are gone"
