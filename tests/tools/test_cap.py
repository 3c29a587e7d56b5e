"""Results are bounded, and a cut is announced so the reader can narrow the query."""

from __future__ import annotations

import json

from tools.base import Status, ToolResult
from tools.cap import cap


def _result(data: object) -> ToolResult:
    return ToolResult(tool="t", status=Status.success, invocation="t()", data=data)


def test_small_result_is_untouched() -> None:
    r = _result({"pods": [{"name": "a"}]})
    assert cap(r, 1000) == r


def test_longest_list_is_cut_and_the_cut_is_announced() -> None:
    pods = [{"name": f"pod-{i:04d}", "phase": "Running"} for i in range(500)]
    r = cap(_result({"namespace": "shop", "pods": pods}), 2000)
    assert r.truncated
    assert len(json.dumps(r.data)) <= 2000
    assert r.data["namespace"] == "shop"
    assert r.data["pods"][0]["name"] == "pod-0000", "the head of the list (newest/worst first) is kept"
    assert f"{len(r.data['pods'])} of 500 pods" in (r.notice or "")
    assert "narrow the query" in (r.notice or "")


def test_one_huge_string_is_cut_as_text() -> None:
    r = cap(_result({"log": "x" * 10_000}), 1000)
    assert r.truncated and isinstance(r.data, str) and len(r.data) <= 1001
    assert "text cut at 1000 characters" in (r.notice or "")
