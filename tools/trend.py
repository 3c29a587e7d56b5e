"""A time series told in a few numbers and a word, so a reader (or a model) sees its shape without the samples."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import fmean, median
from typing import Any

Trend = str  # "flat", "rising", "falling", "spike", "dip", "fluctuating" or "no values"


def number(v: float) -> float | str:
    """Six significant digits; NaN and infinities as Prometheus spells them."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return float(f"{v:.6g}")


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def trend(values: list[float]) -> Trend:
    """The shape in one word: a pulse that returns is a spike (or dip); a lasting change rises or falls.

    The ends are the means of the first and last tenth, so noise does not decide; a spike must stand out
    from the median by several median absolute deviations, so noise around a level is not one.
    """
    if not values:
        return "no values"
    lo, hi = min(values), max(values)
    span = hi - lo
    if span <= 1e-9 * max(1.0, abs(hi), abs(lo)):
        return "flat"
    tenth = max(1, len(values) // 10)
    head, tail = fmean(values[:tenth]), fmean(values[-tenth:])
    mid = median(values)
    mad = median(abs(v - mid) for v in values)
    net = tail - head
    if hi - max(head, tail) >= 0.5 * span and hi - mid > 4 * mad and abs(net) < 0.5 * span:
        return "spike"
    if min(head, tail) - lo >= 0.5 * span and mid - lo > 4 * mad and abs(net) < 0.5 * span:
        return "dip"
    if abs(net) >= 0.2 * span and abs(net) > 2 * mad:
        return "rising" if net > 0 else "falling"
    return "flat" if span <= 0.25 * max(abs(mid), 1e-12) else "fluctuating"


def summarise(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """first/last/min/max (with when), points, trend, and the largest single jump when it is most of the story."""
    finite = [(t, v) for t, v in samples if math.isfinite(v)]
    out: dict[str, Any] = {"points": len(samples)}
    if not finite:
        return {**out, "trend": "no values"}
    (t_first, first), (t_last, last) = finite[0], finite[-1]
    t_min, lo = min(finite, key=lambda s: s[1])
    t_max, hi = max(finite, key=lambda s: s[1])
    out.update(
        first=number(first), last=number(last), min=number(lo), max=number(hi),
        min_at=when(t_min), max_at=when(t_max), trend=trend([v for _, v in finite]),
        since=when(t_first), until=when(t_last),
    )
    jumps = [(abs(b[1] - a[1]), a, b) for a, b in zip(finite, finite[1:], strict=False)]
    if jumps:
        size, a, b = max(jumps, key=lambda j: j[0])
        if hi > lo and size >= 0.5 * (hi - lo):
            out["largest_jump"] = {"at": when(b[0]), "from": number(a[1]), "to": number(b[1])}
    return out
