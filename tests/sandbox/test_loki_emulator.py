"""The sandbox's Loki emulator refuses what Loki refuses, in Loki's words (status 400, plain text), so opsbot's
error paths meet Loki's answers, not the emulator's."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.settings import Settings

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
