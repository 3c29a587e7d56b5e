"""Durations as people write them in policies, scenarios and tool arguments: '90s', '30m', '2h', '1d', '-5m'."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(-?)(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


class DurationError(ValueError):
    """Not a duration; the message gives the accepted forms."""


def is_duration(text: str) -> bool:
    return _DURATION.match(text) is not None


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '2h', '-5m' → timedelta. Raises DurationError with the accepted forms."""
    m = _DURATION.match(text)
    if not m:
        raise DurationError(f"'{text}' is not a duration; use a number and a unit s/m/h/d/w, e.g. '30m'")
    seconds = float(m.group(2)) * _UNITS[m.group(3)]
    return timedelta(seconds=-seconds if m.group(1) else seconds)


def spoken(delta: timedelta) -> str:
    """A duration as a policy's sentences say it: '45s', '4m05s', '2h', '1h30m'."""
    s = int(delta.total_seconds())
    if s >= 3600 and s % 60 == 0:
        return f"{s // 3600}h{s % 3600 // 60:02d}m" if s % 3600 else f"{s // 3600}h"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
