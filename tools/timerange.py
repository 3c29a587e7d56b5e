"""Durations ("90s", "30m", "2h", "1d") and points in time ("last 30m", "30m", ISO 8601) for tool arguments."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tools.base import ToolInputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(-?)(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '2h', '-5m' → timedelta. Raises ToolInputError with the accepted forms."""
    m = _DURATION.match(text)
    if not m:
        raise ToolInputError(f"'{text}' is not a duration; use a number and a unit s/m/h/d/w, e.g. '30m'")
    seconds = float(m.group(2)) * _UNITS[m.group(3)]
    return timedelta(seconds=-seconds if m.group(1) else seconds)


def parse_point(text: str, now: datetime) -> datetime:
    """'last 30m' or '30m' (that long ago), 'now', or an ISO 8601 time (UTC when no zone is given)."""
    t = text.strip().lower()
    if t == "now":
        return now
    if t.startswith("last "):
        t = t[5:]
    if _DURATION.match(t):
        return now - abs(parse_duration(t))
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ToolInputError(
            f"'{text}' is not a time; use 'last 30m', '2h' or an ISO time such as 2026-11-22T10:00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_range(since: str, until: str, now: datetime) -> tuple[datetime, datetime]:
    start, end = parse_point(since, now), parse_point(until, now)
    if start >= end:
        raise ToolInputError(f"the time range is empty: {start.isoformat()} is not before {end.isoformat()}")
    return start, end
