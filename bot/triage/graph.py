"""The alert's graph: its expression over the last hour from Prometheus, with the threshold it compares against.

`split` finds the expression's top-level comparison with a number (`rate(x[5m]) > 0.05`): its left side is
what is drawn (so the graph shows the value before it crossed), the number is the dashed threshold line.
Otherwise the whole expression is drawn, with no line. The range query is a read for the card, not a tool
call: it goes to the Prometheus client of the run's context. Every failure (Prometheus down or refusing the
query, no data, drawing) costs only the graph: it is logged, and the card lists why under "Could not run".
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests
import structlog
from prometheus_api_client import PrometheusApiClientException

from bot.cards import strings as S
from bot.cards.graph import Series, render_png
from bot.guard.audit import AuditRecord
from bot.guard.door import Door
from bot.intake.alert import Alert
from bot.redact import redact

log = structlog.get_logger(__name__)

SPAN = timedelta(hours=1)
STEP_S = 30  # 120 points over the hour
MAX_SERIES = 8  # the highest peaks are drawn; the legend counts the rest
SUBTITLE_CHARS = 140
COMPARISON = re.compile(r"==|!=|>=|<=|>|<")
SET_OPERATOR = re.compile(r"\b(?:and|or|unless)\b")  # binds looser than a comparison: no threshold then
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _top_level(expr: str) -> str:
    """`expr` with everything inside brackets, braces, parentheses or quotes blanked: what is left is top level."""
    out, depth, quote, escaped = [], 0, "", False
    for ch in expr:
        inside = bool(quote) or depth > 0 or ch in "\"'`([{"
        if escaped:
            escaped = False
        elif quote:
            escaped, quote = ch == "\\", "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth, inside = depth - 1, True
        out.append(" " if inside else ch)
    return "".join(out)


def split(expr: str) -> tuple[str, float | None]:
    """(what the expression compares, the number it compares that with) at its top level, e.g.
    `rate(x[5m]) > 0.05` → (`rate(x[5m])`, 0.05); (the expression, None) when it compares nothing with a number."""
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and not _top_level(expr).strip():
        expr = expr[1:-1].strip()  # wrapped whole in parentheses
    top = _top_level(expr)
    ops = list(COMPARISON.finditer(top))
    if not ops or SET_OPERATOR.search(top):
        return expr, None
    left, right = expr[: ops[-1].start()].strip(), expr[ops[-1].end():].strip()
    right = right.removeprefix("bool").strip()
    if not left or not NUMBER.fullmatch(right):
        return expr, None
    return left, float(right)


def _peak(s: Series) -> float:
    return max((v for _, v in s.points if math.isfinite(v)), default=-math.inf)


def series_of(result: list[dict[str, Any]]) -> list[Series]:
    """A range query's series as points, each named by the labels that tell it from the others (masked), the
    highest peak first."""
    metrics = [r["metric"] for r in result]
    varying = sorted({k for m in metrics for k in m if len({n.get(k) for n in metrics}) > 1})
    out = []
    for r in result:
        shown = varying or sorted(k for k in r["metric"] if k != "__name__")
        label = ", ".join(f"{k}={r['metric'][k]}" for k in shown if k in r["metric"]) or "value"
        out.append(Series(redact(label), [(float(t), float(v)) for t, v in r["values"]]))
    return sorted(out, key=_peak, reverse=True)


class AlertGraph:
    """Draws an alert's graph and keeps it for its card (`keep(incident_id, png)`); called by triage. Its
    range query is no tool the model is offered, but it is audited like one (as opsbot:triage)."""

    def __init__(self, door: Door, keep: Callable[[str, bytes], None]):
        self.door, self.ctx, self.keep = door, door.ctx, keep

    def _audit(self, incident_id: str, query: str, status: str, started: float) -> None:
        self.door.audit.append(AuditRecord(
            at=self.ctx.now(), kind="tool_call", identity="opsbot:triage", action="graph_range_query",
            target=query[:200], status=status, summary=f"the alert's expression over the last hour: {status}",
            duration_ms=round((time.perf_counter() - started) * 1000, 1), incident=incident_id))

    def __call__(self, alert: Alert, incident_id: str) -> str | None:
        """None when the graph is kept (or the alert has no expression to draw); else why there is none."""
        if not alert.expr:
            return None
        try:  # the Prometheus of the alert's cluster, when the settings name one for it
            ctx = self.ctx.on_cluster(self.door.cluster_of(alert.labels))
        except LookupError as e:
            return S.GRAPH_NO_CLUSTER.format(why=e)
        url = ctx.settings.prometheus.url
        query, threshold = split(alert.expr)
        end, started = self.ctx.now(), time.perf_counter()
        try:
            try:
                result = ctx.backends.prometheus.custom_query_range(query, start_time=end - SPAN, end_time=end,
                                                                    step=str(STEP_S))
            except Exception:
                self._audit(incident_id, query, "error", started)
                raise
            self._audit(incident_id, query, "success" if result else "no_data", started)
            if not result:
                log.info("graph_no_data", incident=incident_id, query=query)
                return S.GRAPH_NO_DATA.format(url=url)
            drawn = series_of(result)
            subtitle = query if len(query) <= SUBTITLE_CHARS else query[: SUBTITLE_CHARS - 1] + "…"
            png = render_png(alert.name, subtitle, drawn[:MAX_SERIES], threshold, max(0, len(drawn) - MAX_SERIES))
            self.keep(incident_id, png)
        except PrometheusApiClientException as e:
            log.warning("graph_query_refused", incident=incident_id, query=query, error=str(e)[:300])
            return S.GRAPH_REFUSED.format(url=url)
        except requests.RequestException as e:
            log.warning("graph_prometheus_unreachable", incident=incident_id, url=url, error=type(e).__name__)
            return S.GRAPH_UNREACHABLE.format(url=url)
        except Exception as e:  # drawing or keeping it: the card goes on without its graph
            log.error("graph_failed", incident=incident_id, error=f"{type(e).__name__}: {e}"[:300])
            return S.GRAPH_FAILED
        log.info("graph_kept", incident=incident_id, series=len(drawn), bytes=len(png))
        return None
