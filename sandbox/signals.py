"""A scenario's metric series as functions of time, and their history as an OpenMetrics file for promtool.

Times are seconds since the load time t0 (negative before it). The backfill and the live exporter both
call `value_at`, so history and live data are one continuous series: a counter is the integral of its rate
on a fixed grid anchored at the start of the history, so it is deterministic, continuous and monotonic.
The history starts 10 minutes before `history` so that rate() windows are whole over all of `history`.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from sandbox.scenario import Constant, Metrics, Noise, Ramp, Series, Spike, offset

JOB = "sandbox"
BACKFILL_GAP_S = 60.0  # history ends this long before t0; the live scrape takes over from t0
LEAD_IN_S = 600.0  # history starts this much before -history, so rate(x[10m]) is whole over all of it


def history_start(metrics: Metrics) -> float:
    """Where the data (and every counter's integral) begins, as an offset from t0."""
    return -_seconds(metrics.history) - LEAD_IN_S


@lru_cache(maxsize=1024)
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


class _Integral:
    """A counter's running sums on its grid, extended on demand (the exporter asks every 5 s, forever)."""

    def __init__(self, series: Series, metrics: Metrics):
        self.series, self.metrics = series, metrics
        self.start, self.step = history_start(metrics), _seconds(metrics.step)
        self.sums = [0.0]  # sums[i]: the integral up to grid point i
        self.lock = threading.Lock()  # the exporter answers scrapes on threads

    def at(self, t: float) -> float:
        if t <= self.start:
            return 0.0
        cells = int((t - self.start) // self.step)
        with self.lock:
            while len(self.sums) <= cells:
                i = len(self.sums) - 1
                rate = max(0.0, signal_at(self.series, self.start + i * self.step))
                self.sums.append(self.sums[-1] + rate * self.step)
        last = self.start + cells * self.step
        return self.sums[cells] + max(0.0, signal_at(self.series, last)) * (t - last)


_integrals: dict[int, _Integral] = {}


def value_at(series: Series, metrics: Metrics, t: float) -> float:
    """The value a scrape sees at t. Counters: the rate (never below 0) summed over the grid since the
    start of the history, interpolated linearly inside the current grid cell; 0 before the history."""
    if series.type == "gauge":
        return signal_at(series, t)
    integral = _integrals.get(id(series))
    if integral is None or integral.series is not series or integral.metrics is not metrics:
        if len(_integrals) > 256:
            _integrals.clear()
        integral = _integrals[id(series)] = _Integral(series, metrics)
    return integral.at(t)


def grid(metrics: Metrics, end: float = -BACKFILL_GAP_S) -> list[float]:
    """The backfill timestamps (offsets from t0): every step from the start of the history up to `end`,
    and `end` itself, so the history reaches right up to where the live scrape begins."""
    start, step = history_start(metrics), _seconds(metrics.step)
    times = [start + i * step for i in range(int((end - start) // step) + 1)]
    return times if times[-1] == end else [*times, end]


def labels_of(series: Series) -> dict[str, str]:
    """The series' labels under the sandbox's scrape job, unless the series names its own `job` (a batch job's
    series pushed through a Pushgateway, scraped with honor_labels)."""
    return {"job": JOB, **series.labels}


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


def write_openmetrics(metrics: Metrics, t0: float, path: Path, end: float = -BACKFILL_GAP_S) -> int:
    """Write every series over [t0 - history - 10 min, t0 + end] at `step`; returns the number of samples.

    `end` may be any time before the Prometheus that gets these blocks starts scraping: its first scrape
    must be later than the last backfilled sample."""
    times = grid(metrics, end)
    written = 0
    with path.open("w") as f:
        for name, members in families(metrics.series).items():
            family, kind = _openmetrics_type(name, members[0].type)
            f.write(f"# TYPE {family} {kind}\n")
            if members[0].help:
                f.write(f"# HELP {family} {_escape(members[0].help)}\n")
            for s in members:
                labels = format_labels(labels_of(s))
                for t in times:
                    value = value_at(s, metrics, t)
                    f.write(f"{name}{labels} {value!r} {t0 + t:.3f}\n")
                    written += 1
        f.write("# EOF\n")
    return written
