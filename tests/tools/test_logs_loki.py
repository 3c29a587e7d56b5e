"""logs_search with `logs.backend: loki`, against the sandbox's Loki (the emulator of sandbox/loki_emulator.py,
loaded with the same scenario lines, at the same times, as its Elasticsearch-API server)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.guard.door import Caller
from bot.settings import Settings
from sandbox import scenario
from sandbox.manager import Sandbox
from tests.support.doors import SCENARIO, make_door
from tests.support.hostile import SECRET, SECRET_LINE
from tools.log_lines import LogsSearchArgs
from tools.logs_loki import logql

WIDE = "last 2h"  # wider than any line of the scenario, however long the session has been running
QUESTIONS = [
    {"service": "checkout", "level": "error", "since": WIDE},
    {"service": "checkout", "since": WIDE, "limit": 100},
    {"service": "cart", "namespace": "shop", "level": "warn", "since": WIDE},
    {"query": "connection refused", "since": WIDE, "limit": 7},
    {"query": "CONNECTION", "since": WIDE, "limit": 3},
]


def _on_loki(settings: Settings, **loki: object) -> Settings:
    return settings.model_copy(update={"logs": settings.logs.model_copy(update={"backend": "loki"}),
                                       "loki": settings.loki.model_copy(update=loki)})


@pytest.fixture(scope="module")
def same_logs(sandbox: Sandbox) -> None:
    """Elasticsearch and Loki hold the scenario's lines at the same times (an earlier test may have reloaded one)."""
    sandbox.load_logs(scenario.load(SCENARIO), time.time())


@pytest.fixture
def loki_settings(settings: Settings, same_logs: None) -> Settings:
    return _on_loki(settings)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()))
def test_the_same_question_gets_the_same_lines_from_elasticsearch_and_loki(
        settings: Settings, loki_settings: Settings, oncall: Caller, question: dict) -> None:
    from_es = make_door(settings).run("logs_search", question, oncall)
    from_loki = make_door(loki_settings).run("logs_search", question, oncall)

    assert from_es.status == from_loki.status == "success", (from_es.error, from_loki.error)
    es, loki = from_es.data, from_loki.data
    assert loki["total"] == es["total"] and loki["total_exact"]
    # lines of the same instant may come in either order: the same lines, newest first
    assert sorted(map(str, loki["hits"])) == sorted(map(str, es["hits"]))
    assert [h["time"] for h in loki["hits"]] == [h["time"] for h in es["hits"]]
    assert [(b["message"], b["count"], b["level"], b["service"]) for b in loki["by_message"]] == \
        [(b["message"], b["count"], b["level"], b["service"]) for b in es["by_message"]]
    assert loki["other_messages_count"] == es["other_messages_count"]
    assert from_loki.notice == from_es.notice
    assert set(loki) - {"logql"} == set(es) - {"index"}


def test_the_question_becomes_logql_with_label_selectors_and_line_filters(settings: Settings) -> None:
    args = LogsSearchArgs(query="connection refused", namespace="shop", service="cart", pod="cart-7d.",
                          level="error")

    assert logql(args, settings.loki) == (
        '{namespace="shop", app="cart", pod=~"cart\\\\-7d\\\\..*"} |~ "(?i)\\\\bconnection\\\\b" '
        '|~ "(?i)\\\\brefused\\\\b" | level=~"error|fatal|critical|ERROR|FATAL|CRITICAL"')
    assert logql(LogsSearchArgs(), settings.loki) == '{namespace=~".+"}', "Loki refuses a selector that matches all"


def test_nothing_matched_says_what_was_searched_in_loki(loki_settings: Settings, oncall: Caller) -> None:
    r = make_door(loki_settings).run("logs_search", {"service": "checkout", "query": "segfault"}, oncall)

    assert r.status == "no_data" and r.data is None
    assert f"in loki at {loki_settings.loki.url}" in r.notice and "text 'segfault'" in r.notice
    assert "not a sign of health" in r.notice


def test_a_loki_that_is_down_is_an_error_naming_it_never_no_logs(settings: Settings, oncall: Caller,
                                                                 dead_url: str) -> None:
    r = make_door(_on_loki(settings, url=dead_url)).run("logs_search", {"service": "checkout"}, oncall)

    assert r.status == "error"
    assert r.error.startswith(f'could not reach loki at {dead_url} for the LogQL {{app="checkout"}}')
    assert r.error.endswith("connection refused")


def test_a_query_loki_refuses_is_an_error_in_its_words(loki_settings: Settings, oncall: Caller) -> None:
    # Loki's max_query_length (721h by default) refuses a longer range
    r = make_door(loki_settings).run("logs_search", {"service": "checkout", "since": "2020-01-01T00:00:00Z"},
                                     oncall)

    assert r.status == "error"
    assert r.error.startswith(f"loki at {loki_settings.loki.url} refused the LogQL {{app=\"checkout\"}}")
    assert "HTTP 400: the query time range exceeds the limit" in r.error


def test_labels_are_settings(loki_settings: Settings, oncall: Caller) -> None:
    """An install whose shipper calls the service `container` says so; the sandbox's streams have no such label."""
    r = make_door(_on_loki(loki_settings, service_label="container")).run(
        "logs_search", {"service": "checkout", "since": WIDE}, oncall)

    assert r.status == "no_data"
    assert r.invocation == "logs_search(service='checkout', since='last 2h')"


def test_too_many_messages_to_count_in_loki_are_grouped_from_the_lines_shown(loki_settings: Settings,
                                                                             oncall: Caller) -> None:
    """Counting by message asks Loki for one series per message: past max_query_series (500) Loki refuses,
    and the answer groups the lines shown instead, saying so, rather than failing or counting nothing."""
    now = time.time_ns()
    lines = [[str(now - i * 1_000_000_000), f"request {i} failed"] for i in range(501)]
    pushed = httpx.post(f"{loki_settings.loki.url}/loki/api/v1/push", json={"streams": [
        {"stream": {"namespace": "flood", "app": "gateway", "level": "error"}, "values": lines}]})
    assert pushed.status_code == 204, pushed.text

    r = make_door(loki_settings).run("logs_search", {"namespace": "flood", "since": "last 1h", "limit": 5}, oncall)

    assert r.status == "success", r.error
    assert r.data["total"] == 501
    assert [(b["message"], b["count"]) for b in r.data["by_message"]] == [(f"request {i} failed", 1) for i in range(5)]
    assert r.data["other_messages_count"] is None
    assert r.notice == (f"messages grouped from the 5 lines shown only: loki at {loki_settings.loki.url} would not "
                        "count every matching line by message (maximum of series (500) reached for a single "
                        "query); showing the 5 newest of 501 matching lines")


def test_a_secret_in_a_loki_line_leaves_the_door_masked(loki_settings: Settings, oncall: Caller) -> None:
    pushed = httpx.post(f"{loki_settings.loki.url}/loki/api/v1/push", json={"streams": [
        {"stream": {"namespace": "leaky", "app": "ci", "level": "debug"},
         "values": [[str(time.time_ns()), SECRET_LINE]]}]})
    assert pushed.status_code == 204, pushed.text

    door = make_door(loki_settings)
    r = door.run("logs_search", {"namespace": "leaky", "since": "last 1h"}, oncall)

    assert r.status == "success", r.error
    text = r.model_dump_json()
    assert "[REDACTED]" in text and SECRET not in text and "hunter2" not in text
    assert SECRET not in json.dumps([a.model_dump(mode="json") for a in door.audit.query()])
