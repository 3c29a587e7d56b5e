"""A card's graph as a small PNG: a few series over time, the threshold as a dashed line, the time axis in UTC.

Drawn with matplotlib's Agg backend through its object API (no pyplot, no display). matplotlib is imported on
the first drawing, not with the module: commands that never draw a card do not pay for it.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH, HEIGHT, DPI = 800, 300, 100
LABEL_CHARS = 60  # a legend entry; the distinguishing labels of one series
_DRAWING = threading.Lock()  # matplotlib is not thread-safe: one drawing at a time (each takes ~50 ms)


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]  # (unix seconds, value)


def render_png(title: str, subtitle: str, series: list[Series], threshold: float | None, more: int = 0) -> bytes:
    """The series as a WIDTH x HEIGHT PNG titled `title` (the alert) over `subtitle` (what is drawn); `more`
    series were left out, and the legend says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure

    with _DRAWING:
        fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for s in series:
            ax.plot([datetime.fromtimestamp(t, UTC) for t, _ in s.points], [v for _, v in s.points],
                    label=s.label[:LABEL_CHARS], linewidth=1.4)
        if threshold is not None:
            ax.axhline(threshold, color="#d0021b", linestyle="--", linewidth=1.2, label=f"threshold {threshold:g}")
        ax.xaxis.set_major_locator(AutoDateLocator(tz=UTC))
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))
        ax.set_xlabel("UTC", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.set_title(subtitle, fontsize=7, loc="left", color="#555555")
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
        ax.legend(fontsize=7, loc="best", title=f"+{more} more series not shown" if more else None,
                  title_fontsize=7)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
    return out.getvalue()
