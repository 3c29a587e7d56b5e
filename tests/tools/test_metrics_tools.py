"""The metrics tools as an on-call engineer uses them, through the door, against the crashloop sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.guard.door import Caller, Door
from bot.polling import poll
from tools.base import ToolResult
from tools.trend import trend

REPLICAS = 'kube_deployment_status_replicas_available{job="sandbox", namespace="shop", deployment="checkout"}'
RESTART_RATE = 'rate(kube_pod_container_status_restarts_total{job="sandbox", namespace="shop"}[5m])'


def run(door: Door, caller: Caller, tool: str, args: dict[str, Any], status: str) -> ToolResult:
    """One call through the door; it has the expected status and left its audit record."""
    result = door.run(tool, args, caller)
    assert result.status == status, result
    assert [r.status for r in door.audit.query(action=tool)][-1] == status
    return result


def test_range_shows_checkout_replicas_dropping_to_zero(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_query_range", {"query": REPLICAS, "since": "2h"}, "success")
    (series,) = result.data["series"]
    assert series["labels"]["deployment"] == "checkout"
    assert (series["first"], series["max"], series["last"]) == (3, 3, 0)
    assert series["trend"] == "falling"
    assert (series["largest_jump"]["from"], series["largest_jump"]["to"]) == (3, 0)
    assert 200 <= series["points"] <= 300
    assert "samples" not in series and "values" not in series
    assert REPLICAS in result.invocation


def test_range_shows_restarts_starting_and_holding(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_query_range", {"query": RESTART_RATE, "since": "2h", "step": "1m"}, "success")
    (series,) = result.data["series"]
    assert series["first"] == 0
    assert series["trend"] == "rising"
    # 0.006/s; just after the load the newest 5m window may still hold the seconds before the first scrape
    assert 0.004 < series["last"] <= 0.0065
    assert series["max"] == pytest.approx(0.006, rel=0.05)
    assert result.data["step"] == "60s"


def test_range_over_a_short_window_before_the_deploy_is_flat(door: Door, oncall: Caller) -> None:
    whole = run(door, oncall, "prom_query_range", {"query": REPLICAS, "since": "2h"}, "success")
    drop = datetime.fromisoformat(whole.data["series"][0]["largest_jump"]["at"])  # the bad deploy's drop
    window = {"since": (drop - timedelta(minutes=60)).isoformat(), "until": (drop - timedelta(minutes=10)).isoformat()}
    result = run(door, oncall, "prom_query_range", {"query": REPLICAS, **window}, "success")
    (series,) = result.data["series"]
    assert series["trend"] == "flat" and series["min"] == series["max"] == 3


def test_instant_query_gives_the_value_now(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_query", {"query": REPLICAS}, "success")
    (series,) = result.data["series"]
    assert series["value"] == 0
    assert series["labels"]["job"] == "sandbox"
    assert result.data["prometheus"] == door.ctx.settings.prometheus.url


def test_instant_query_in_the_past_sees_the_healthy_deployment(door: Door, oncall: Caller) -> None:
    # 110 min back: before the failure began however long the suite has run, and within the 2 h of history
    result = run(door, oncall, "prom_query", {"query": REPLICAS, "time": "110m"}, "success")
    assert result.data["series"][0]["value"] == 3


def test_scalar_query(door: Door, oncall: Caller) -> None:
    assert run(door, oncall, "prom_query", {"query": "1 + 1"}, "success").data["scalar"] == 2


def test_series_beyond_the_limit_are_counted_and_announced(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_query", {"query": "http_requests_total", "limit": 1}, "success")
    assert result.data["series_total"] == 2 and len(result.data["series"]) == 1
    assert "2 series matched, 1 shown" in result.notice


@pytest.mark.parametrize("tool", ["prom_query", "prom_query_range"])
def test_a_missing_metric_is_no_data_naming_the_query_and_prometheus(door: Door, oncall: Caller, tool: str) -> None:
    result = run(door, oncall, tool, {"query": "checkout_no_such_metric_total"}, "no_data")
    url = door.ctx.settings.prometheus.url
    assert "checkout_no_such_metric_total" in result.notice and url in result.notice
    assert "not a sign of health" in result.notice


@pytest.mark.parametrize("tool", ["prom_query", "prom_query_range"])
def test_malformed_promql_returns_prometheus_parse_error(door: Door, oncall: Caller, tool: str) -> None:
    result = run(door, oncall, tool, {"query": "rate(http_requests_total[5m]"}, "error")
    assert "parse error" in result.error
    assert "rate(http_requests_total[5m]" in result.error


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"since": "a while back"}, "'a while back' is not a time"),
        ({"since": "now", "until": "1h"}, "the time range is empty"),
        ({"since": "30d", "step": "1s"}, "points per series"),
        ({"step": "soon"}, "'soon' is not a duration"),
    ],
)
def test_bad_time_ranges_are_refused_with_the_reason(door: Door, oncall: Caller, args: dict, says: str) -> None:
    result = run(door, oncall, "prom_query_range", {"query": REPLICAS, **args}, "error")
    assert says in result.error


def test_unknown_arguments_are_refused(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_query", {"query": "up", "range": "1h"}, "error")
    assert "range: is not an argument" in result.error


@pytest.mark.parametrize("tool", ["prom_query", "prom_query_range"])
def test_prometheus_down_is_an_error_naming_it(down_door: Door, oncall: Caller, dead_url: str, tool: str) -> None:
    result = run(down_door, oncall, tool, {"query": "up"}, "error")
    assert f"could not reach prometheus at {dead_url}" in result.error
    assert "refused" in result.error.lower()


def test_alertmanager_down_is_an_error_naming_it(down_door: Door, oncall: Caller, dead_url: str) -> None:
    result = run(down_door, oncall, "prom_alerts", {}, "error")
    assert f"could not reach alertmanager at {dead_url}" in result.error


def test_the_crashloop_alert_shows_as_firing(door: Door, oncall: Caller) -> None:
    def firing() -> ToolResult | None:
        r = door.run("prom_alerts", {"namespace": "shop"}, oncall)
        return r if r.status == "success" else None

    result = poll(firing, 60, 0.5)
    assert result is not None, "the crashloop alert did not fire within 60 s"
    (alert,) = [a for a in result.data["alerts"] if a["alertname"] == "KubePodCrashLooping"]
    assert alert["state"] == "firing" and alert["severity"] == "critical"
    assert alert["labels"]["service"] == "checkout"
    assert alert["summary"] == "checkout pods are crash-looping"
    assert door.ctx.settings.alertmanager.url in result.data["source"]
    assert door.audit.query(action="prom_alerts")[-1].target == "shop"


def test_no_alerts_in_another_namespace_is_no_data_saying_where(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_alerts", {"state": "all", "namespace": "payments"}, "no_data")
    assert 'namespace="payments"' in result.notice
    assert door.ctx.settings.alertmanager.url in result.notice
    assert door.ctx.settings.prometheus.url in result.notice


def test_pending_alerts_come_from_prometheus(door: Door, oncall: Caller) -> None:
    result = run(door, oncall, "prom_alerts", {"state": "pending", "alertname": "KubePodCrashLooping"}, "no_data")
    assert f"Prometheus {door.ctx.settings.prometheus.url}" in result.notice


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ([3.0] * 100, "flat"),
        ([40 + (-1) ** i * (i % 4) for i in range(100)], "flat"),  # noise around a level
        ([3.0] * 80 + [0.0] * 20, "falling"),  # a held drop: the replicas
        ([0.0] * 80 + [0.006] * 20, "rising"),
        ([float(i) for i in range(100)], "rising"),
        ([1.0] * 50 + [9.0] * 3 + [1.0] * 47, "spike"),
        ([5.0] * 50 + [0.0] * 3 + [5.0] * 47, "dip"),
        ([0.0, 10.0] * 50, "fluctuating"),
        ([], "no values"),
    ],
)
def test_trend_words(values: list[float], word: str) -> None:
    assert trend(values) == word
