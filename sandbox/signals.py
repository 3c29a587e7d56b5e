"""A scenario's metric series as functions of time, and their history as an OpenMetrics file for promtool.

Times are seconds since the load time t0 (negative before it). The backfill and the live exporter both
call `value_at`, so history and live data are one continuous series: a counter is the integral of its rate
on a fixed grid anchored at the start of the history, so it is deterministic, continuous and monotonic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from sandbox.scenario import Constant, Metrics, Noise, Ramp, Series, Spike, offset

JOB = "sandbox"
BACKFILL_GAP_S = 60.0  # history ends this long before t0; the live scrape takes over from t0


def _seconds(text: str) -> float:
    return offset(text).total_seconds()


def _noise(seed: int, t: float) -> float:
    """Deterministic pseudo-random value in [-1, 1] for (seed, whole second of t): splitmix64."""
    x = (seed * 0x9E3779B97F4A7C15 + math.floor(t) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    return x / 0xFFFFFFFFFFFFFFFF * 2.0 - 1.0


def signal_at(series: Series, t: float) -> float:
    """The sum of the series' components at t: a gauge's value, or a counter's rate per second."""
    total = 0.0
    for c in series.signal:
        if isinstance(c, Constant):
            total += c.constant
        elif isinstance(c, Ramp):
            r = c.ramp
            start, end = _seconds(r.start), _seconds(r.end)
            if t <= start or end <= start:
                total += r.start_value if t <= start else r.end_value
            elif t >= end:
                total += r.end_value
            else:
                total += r.start_value + (r.end_value - r.start_value) * (t - start) / (end - start)
        elif isinstance(c, Spike):
            s = c.spike
            at = _seconds(s.at)
            if t >= at and (s.hold or t <= at + _seconds(s.width)):
                total += s.peak
        elif isinstance(c, Noise):
            total += c.noise.amplitude * _noise(c.noise.seed, t)
    return total


def value_at(series: Series, metrics: Metrics, t: float) -> float:
    """The value a scrape sees at t. Counters: the rate (never below 0) summed over the grid since the
    start of the history, interpolated linearly inside the current grid cell; 0 before the history."""
    if series.type == "gauge":
        return signal_at(series, t)
    start, step = -_seconds(metrics.history), _seconds(metrics.step)
    if t <= start:
        return 0.0
    cells = int((t - start) // step)
    total = 0.0
    for i in range(cells):
        total += max(0.0, signal_at(series, start + i * step)) * step
    last = start + cells * step
    return total + max(0.0, signal_at(series, last)) * (t - last)


def grid(metrics: Metrics) -> list[float]:
    """The backfill timestamps (offsets from t0): from -history to t0 - 60 s, every step."""
    start, step = -_seconds(metrics.history), _seconds(metrics.step)
    n = int((-BACKFILL_GAP_S - start) // step)
    return [start + i * step for i in range(n + 1)]


def labels_of(series: Series) -> dict[str, str]:
    return {**series.labels, "job": JOB}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def families(series: Iterable[Series]) -> dict[str, list[Series]]:
    """Series grouped by metric name, first appearance first (both formats forbid splitting a family)."""
    out: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        out[s.name].append(s)
    return out


def _openmetrics_type(name: str, kind: str) -> tuple[str, str]:
    """(family name, type) for a `# TYPE` line: an OpenMetrics counter's samples are <family>_total."""
    if kind == "counter":
        return (name[: -len("_total")], "counter") if name.endswith("_total") else (name, "unknown")
    return name, "gauge"


def write_openmetrics(metrics: Metrics, t0: float, path: Path) -> int:
    """Write every series over [t0 - history, t0 - 60 s] at `step`; returns the number of samples."""
    times = grid(metrics)
    step = _seconds(metrics.step)
    written = 0
    with path.open("w") as f:
        for name, members in families(metrics.series).items():
            family, kind = _openmetrics_type(name, members[0].type)
            f.write(f"# TYPE {family} {kind}\n")
            if members[0].help:
                f.write(f"# HELP {family} {_escape(members[0].help)}\n")
            for s in members:
                labels = format_labels(labels_of(s))
                counter = 0.0
                for i, t in enumerate(times):
                    if s.type == "counter":  # same sum as value_at, computed incrementally
                        if i:
                            counter += max(0.0, signal_at(s, times[i - 1])) * step
                        value = counter
                    else:
                        value = signal_at(s, t)
                    f.write(f"{name}{labels} {value!r} {t0 + t:.3f}\n")
                    written += 1
        f.write("# EOF\n")
    return written
