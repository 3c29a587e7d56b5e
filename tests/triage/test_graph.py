"""The alert's graph: the threshold read from the expression, the hour drawn from the sandbox's real Prometheus,
and every failure a reason for the card instead of a graph."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cards import strings as S
from bot.intake.alert import Alert
from bot.settings import Settings
from bot.triage.graph import AlertGraph, split
from sandbox import scenario
from tests.support.doors import SCENARIO, make_door

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("expr", "drawn", "threshold"), [
    ("rate(x[5m]) > 0.05", "rate(x[5m])", 0.05),
    ("up == 0", "up", 0.0),
    ("a > b", "a > b", None),
    ("max_over_time(w{reason=\"CrashLoopBackOff\"}[5m]) >= 1", "max_over_time(w{reason=\"CrashLoopBackOff\"}[5m])", 1),
    ('sum by (namespace) (x{msg="a > 2"}) > 0', 'sum by (namespace) (x{msg="a > 2"})', 0),  # quoted: not a comparison
    ("histogram_quantile(0.99, sum(rate(h[5m])) by (le)) > 0.5", "histogram_quantile(0.99, sum(rate(h[5m])) by (le))",
     0.5),
    ("(errors / total > 1e-2)", "errors / total", 0.01),
    ("x > bool 3", "x", 3),
    ("x < -2", "x", -2),
    ("a > 1 and b", "a > 1 and b", None),  # `and` binds looser: the comparison is not the whole expression
    ("sum(x)", "sum(x)", None),
])
def test_the_threshold_is_the_number_the_expression_compares_with(expr: str, drawn: str,
                                                                   threshold: float | None) -> None:
    assert split(expr) == (drawn, threshold)


def alert(expr: str | None) -> Alert:
    return Alert(source="alertmanager", name="KubePodCrashLooping", status="firing", severity="P0",
                 labels={"namespace": "shop"}, fingerprint="f1", expr=expr, starts_at=datetime.now(UTC))


def test_the_alerts_hour_is_drawn_from_prometheus_and_kept_for_its_card(settings: Settings) -> None:
    [rule] = scenario.load(SCENARIO).alerts
    kept: dict[str, bytes] = {}
    door = make_door(settings)
    assert AlertGraph(door, kept.__setitem__)(alert(rule.expr), "inc-1") is None
    [read] = [r for r in door.audit.query(incident="inc-1") if r.action == "graph_range_query"]
    assert read.identity == "opsbot:triage" and read.status == "success", "audited like a tool call"
    png = kept["inc-1"]
    assert png.startswith(PNG)
    assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (800, 300)


@pytest.mark.parametrize(("expr", "down", "reason"), [
    ("opsbot_no_such_metric > 1", False, S.GRAPH_NO_DATA),
    ("rate(up) > 1", False, S.GRAPH_REFUSED),  # rate() of an instant vector: Prometheus answers 400
    ("up == 0", True, S.GRAPH_UNREACHABLE),
])
def test_without_data_or_prometheus_the_card_gets_a_reason_and_no_graph(
        expr: str, down: bool, reason: str, settings: Settings, down_settings: Settings) -> None:
    used = down_settings if down else settings
    kept: dict[str, bytes] = {}
    note = AlertGraph(make_door(used), kept.__setitem__)(alert(expr), "inc-1")
    assert note == reason.format(url=used.prometheus.url) and not kept


def test_an_alert_without_an_expression_has_no_graph_and_says_nothing(settings: Settings) -> None:
    kept: dict[str, bytes] = {}
    assert AlertGraph(make_door(settings), kept.__setitem__)(alert(None), "inc-1") is None and not kept
