"""Prometheus and Alertmanager tools: instant and range PromQL queries summarised per series, and alerts."""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from pydantic import Field

from tools import alertmanager_api
from tools.alertmanager_api import transport_reason as _reason
from tools.base import BackendError, ClusterArgs, ToolInputError, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.timerange import parse_duration, parse_point, parse_range
from tools.trend import number, summarise, when

MAX_POINTS = 300  # per series, when the step is chosen for the caller
PROMETHEUS_MAX_POINTS = 11_000  # Prometheus refuses more per series
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_NOT_HEALTH = "an empty result is not a sign of health: the metric may be absent, or named or labelled differently"

Query = Annotated[
    str, Field(min_length=1, max_length=4000,
               description="a PromQL expression, e.g. sum(rate(<metric>{namespace='<namespace>'}[5m]))")
]
Limit = Annotated[int, Field(ge=1, le=50, description="at most this many series in the answer; the total is given")]


# --- talking to Prometheus -------------------------------------------------------------------------------

def _api_error(e: PrometheusApiClientException) -> tuple[int, str]:
    """(HTTP status, Prometheus's own error text) from the client's 'HTTP Status Code N (b'...')' message."""
    m = re.match(r"HTTP Status Code (\d+) \((.*)\)$", str(e), re.DOTALL)
    if not m:
        return 0, str(e)[:300]
    status, body = int(m.group(1)), m.group(2)
    try:
        raw = ast.literal_eval(body)
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    except (ValueError, SyntaxError):
        text = body
    try:
        return status, str(json.loads(text)["error"])
    except (ValueError, KeyError, TypeError):
        return status, text.strip()[:300]


def _prometheus(ctx: ToolContext, asked: str, call: Callable[[PrometheusConnect], Any]) -> Any:
    """Run one client call; a query Prometheus rejects is the caller's to fix, anything else the backend's."""
    url = ctx.settings.prometheus.url
    try:
        return call(ctx.backends.prometheus)
    except PrometheusApiClientException as e:
        status, text = _api_error(e)
        if status in (400, 422):
            raise ToolInputError(f"Prometheus rejected {asked}: {text}") from None
        raise BackendError("prometheus", url, asked, f"HTTP {status}: {text}") from None
    except requests.Timeout:
        waited = f"no answer within {ctx.settings.prometheus.timeout_s:g}s"
        raise BackendError("prometheus", url, asked, waited) from None
    except requests.RequestException as e:
        raise BackendError("prometheus", url, asked, _reason(e)) from None
    except (KeyError, TypeError):
        raise BackendError("prometheus", url, asked, "the answer is not a Prometheus API response") from None


def _labels(metric: dict[str, str]) -> dict[str, str]:
    return dict(sorted(metric.items()))


def _cut(total: int, limit: int, hint: str) -> str | None:
    return f"{total} series matched, {limit} shown; narrow the selector or {hint}" if total > limit else None


# --- prom_query ------------------------------------------------------------------------------------------

class PromQueryArgs(ClusterArgs):
    query: Query
    time: str = Field(
        "now", description="evaluate at: 'now', '30m' (that long ago) or ISO 8601 such as 2026-11-22T10:00:00Z"
    )
    limit: Limit = 20


def _instant_series(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in result:
        if "value" in s:
            out.append({"labels": _labels(s["metric"]), "value": number(float(s["value"][1]))})
        else:  # a range selector evaluated at one instant: its samples, summarised
            samples = [(float(t), float(v)) for t, v in s["values"]]
            out.append({"labels": _labels(s["metric"]), "value": number(samples[-1][1]), "samples": len(samples)})
    return out


@tool("prometheus")
def prom_query(ctx: ToolContext, args: PromQueryArgs) -> ToolResult:
    """Evaluate a PromQL expression at one instant (now by default) in Prometheus; returns each series'
    labels and value (at most `limit` series, with the total). Use prom_query_range to see how a value
    changed over time."""
    at = parse_point(args.time, ctx.now())
    url = ctx.settings.prometheus.url
    moment = when(at.timestamp())
    invocation = f"PromQL {args.query!r} at {moment} on {url}"
    result = _prometheus(
        ctx, f"query {args.query!r}", lambda p: p.custom_query(args.query, params={"time": at.timestamp()})
    )
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):  # scalar or string
        value = result[1]
        try:
            value = number(float(value))  # Prometheus spells "NaN", "+Inf": float() reads them
        except ValueError:
            pass
        return ok("prom_query", invocation, {"prometheus": url, "query": args.query, "time": moment, "scalar": value})
    if not result:
        searched = f"no series matched {args.query!r} at {moment} on Prometheus {url}; {_NOT_HEALTH}"
        return empty("prom_query", invocation, searched)
    series = _instant_series(result)
    data = {
        "prometheus": url, "query": args.query, "time": moment,
        "series_total": len(series), "series": series[: args.limit],
    }
    return ok("prom_query", invocation, data, _cut(len(series), args.limit, "use topk()"))


# --- prom_query_range ------------------------------------------------------------------------------------

class PromQueryRangeArgs(ClusterArgs):
    query: Query
    since: str = Field("1h", description="start: '2h' or 'last 2h' (that long ago) or ISO 8601")
    until: str = Field("now", description="end: 'now', '10m' (that long ago) or ISO 8601")
    step: str | None = Field(
        None, description=f"resolution such as '30s' or '5m'; by default the step giving at most {MAX_POINTS} points"
    )
    limit: Limit = 10


def _step_seconds(step: str | None, start: datetime, end: datetime) -> int:
    span = (end - start).total_seconds()
    if step is None:
        return next((s for s in _NICE_STEPS if span / s <= MAX_POINTS), math.ceil(span / MAX_POINTS))
    seconds = parse_duration(step).total_seconds()
    if seconds < 1:
        raise ToolInputError(f"step '{step}' must be at least 1s")
    if span / seconds > PROMETHEUS_MAX_POINTS:
        least = math.ceil(span / PROMETHEUS_MAX_POINTS)
        raise ToolInputError(
            f"step '{step}' gives {int(span / seconds)} points per series; use at least {least}s or omit step"
        )
    return math.ceil(seconds)


@tool("prometheus")
def prom_query_range(ctx: ToolContext, args: PromQueryRangeArgs) -> ToolResult:
    """Evaluate a PromQL expression over a time range in Prometheus and describe each series: first, last,
    min and max (with when), the trend in a word (flat, rising, falling, spike, dip, fluctuating), the
    largest single jump, and the number of points. Raw samples are not returned."""
    start, end = parse_range(args.since, args.until, ctx.now())
    step = _step_seconds(args.step, start, end)
    url = ctx.settings.prometheus.url
    span = f"{when(start.timestamp())}..{when(end.timestamp())} step {step}s"
    invocation = f"PromQL {args.query!r} over {span} on {url}"
    result = _prometheus(
        ctx, f"range query {args.query!r} over {span}",
        lambda p: p.custom_query_range(args.query, start_time=start, end_time=end, step=str(step)),
    )
    if not result:
        searched = f"no series matched {args.query!r} over {span} on Prometheus {url}; {_NOT_HEALTH}"
        return empty("prom_query_range", invocation, searched)
    series = [
        {"labels": _labels(s["metric"]), **summarise([(float(t), float(v)) for t, v in s["values"]])} for s in result
    ]
    data = {
        "prometheus": url, "query": args.query, "start": when(start.timestamp()), "end": when(end.timestamp()),
        "step": f"{step}s", "series_total": len(series), "series": series[: args.limit],
    }
    return ok("prom_query_range", invocation, data, _cut(len(series), args.limit, "aggregate with sum by (...)"))


# --- prom_alerts -----------------------------------------------------------------------------------------

class PromAlertsArgs(ClusterArgs):
    state: Literal["firing", "pending", "all"] = Field(
        "firing", description="firing: active in Alertmanager (silenced ones are marked); pending: rules whose "
        "condition holds but whose `for` has not elapsed yet (from Prometheus); all: both"
    )
    namespace: str | None = Field(None, min_length=1, max_length=200, description="only this namespace label")
    service: str | None = Field(None, min_length=1, max_length=200, description="only this service label")
    alertname: str | None = Field(None, min_length=1, max_length=200, description="e.g. KubePodCrashLooping")
    severity: str | None = Field(None, min_length=1, max_length=50, description="e.g. critical or warning")
    limit: int = Field(30, ge=1, le=100, description="at most this many alerts in the answer; the total is given")


_SEVERITY_RANK = {"critical": 0, "error": 1, "high": 1, "warning": 2, "medium": 2, "info": 3, "low": 3}


def _matchers(args: PromAlertsArgs) -> list[str]:
    wanted = {k: getattr(args, k) for k in ("namespace", "service", "alertname", "severity")}
    return [f'{k}="{json.dumps(v)[1:-1]}"' for k, v in wanted.items() if v]


def active_alerts(ctx: ToolContext, matchers: list[str]) -> list[dict[str, Any]]:
    """Alertmanager's active alerts matching `matchers` (each 'name=\"value\"'), silenced and inhibited included."""
    asked = "GET /api/v2/alerts" + (f" filter {','.join(matchers)}" if matchers else "")
    params = [("active", "true"), ("silenced", "true"), ("inhibited", "true")] + [("filter", m) for m in matchers]
    answer = alertmanager_api.call(ctx, "GET", "/api/v2/alerts", asked, params=params)
    out = []
    for a in answer:
        status = a.get("status", {})
        state = "firing"
        if status.get("state") == "suppressed":
            state = "silenced" if status.get("silencedBy") else "inhibited"
        labels = dict(a.get("labels", {}))
        severity = labels.pop("severity", None)
        notes = a.get("annotations", {})
        out.append({
            "alertname": labels.pop("alertname", ""), "state": state, "severity": severity,
            "labels": dict(sorted(labels.items())), "summary": notes.get("summary") or notes.get("description"),
            "since": a.get("startsAt"), "fingerprint": a.get("fingerprint"),
        })
    return out


def _pending(ctx: ToolContext, matchers: list[str]) -> list[dict[str, Any]]:
    selector = "ALERTS{" + ",".join(['alertstate="pending"', *matchers]) + "}"
    result = _prometheus(ctx, f"query {selector!r}", lambda p: p.custom_query(selector))
    out = []
    for s in result:
        labels = {k: v for k, v in s["metric"].items() if k not in ("__name__", "alertstate")}
        severity = labels.pop("severity", None)
        out.append({
            "alertname": labels.pop("alertname", ""), "state": "pending", "severity": severity,
            "labels": dict(sorted(labels.items())), "summary": None, "since": None, "fingerprint": None,
        })
    return out


@tool("alertmanager")
def prom_alerts(ctx: ToolContext, args: PromAlertsArgs) -> ToolResult:
    """List alerts: firing ones from Alertmanager's active alerts (/api/v2/alerts, with summary, start time
    and whether silenced), pending ones from Prometheus's rule state (ALERTS{alertstate="pending"}).
    Filter by namespace, service, alertname or severity. Most severe first."""
    matchers = _matchers(args)
    am, prom = ctx.settings.alertmanager.url, ctx.settings.prometheus.url
    where = {
        "firing": f"Alertmanager {am}", "pending": f"Prometheus {prom}",
        "all": f"Alertmanager {am} and Prometheus {prom}",
    }
    shown = f" matching {', '.join(matchers)}" if matchers else ""
    invocation = f"{args.state} alerts{shown} from {where[args.state]}"
    alerts = []
    if args.state in ("firing", "all"):
        alerts += active_alerts(ctx, matchers)
    if args.state in ("pending", "all"):
        alerts += _pending(ctx, matchers)
    if not alerts:
        return empty("prom_alerts", invocation, f"no {args.state} alerts{shown} in {where[args.state]}")
    alerts.sort(key=lambda a: (_SEVERITY_RANK.get(a["severity"] or "", 4), a["state"] != "firing", a["alertname"]))
    data = {"state": args.state, "source": where[args.state], "total": len(alerts), "alerts": alerts[: args.limit]}
    notice = None
    if len(alerts) > args.limit:
        notice = f"{len(alerts)} alerts, {args.limit} shown; filter by namespace, service, alertname or severity"
    return ok("prom_alerts", invocation, data, notice)


TOOLS = [prom_query, prom_query_range, prom_alerts]
