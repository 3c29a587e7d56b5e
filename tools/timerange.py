"""Durations ("90s", "30m", "2h", "1d") and points in time for tool arguments: "last 30m", "30m", ISO 8601, and
the way people say it ("yesterday 14:00", "last Thursday", "3 hours ago", "2026-11-20"), read by dateparser
in UTC against the caller's now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import dateparser

from policies import durations
from tools.base import ToolInputError

_LEADING = re.compile(r"^(since|from|until|till|to|starting)\s+", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '2h', '-5m' → timedelta. Raises ToolInputError with the accepted forms."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as e:
        raise ToolInputError(str(e)) from None


def parse_point(text: str, now: datetime) -> datetime:
    """'last 30m' or '30m' (that long ago), 'now', or an ISO 8601 time (UTC when no zone is given)."""
    t = text.strip().lower()
    if t == "now":
        return now
    if t.startswith("last "):
        t = t[5:]
    if durations.is_duration(t):
        return now - abs(parse_duration(t))
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return _natural(text, now)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _natural(text: str, now: datetime) -> datetime:
    spoken = _LEADING.sub("", text.strip())
    base = now.astimezone(UTC).replace(tzinfo=None)
    when = dateparser.parse(spoken, languages=["en"], settings={
        "RELATIVE_BASE": base, "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past"}) if spoken else None
    if when is None:
        raise ToolInputError(f"'{text}' is not a time; use 'last 30m', '2h', 'yesterday 14:00', 'last Thursday' "
                             "or an ISO time such as 2026-11-22T10:00:00Z")
    return when


def parse_range(since: str, until: str, now: datetime) -> tuple[datetime, datetime]:
    start, end = parse_point(since, now), parse_point(until, now)
    if start >= end:
        raise ToolInputError(f"the time range is empty: {start.isoformat()} is not before {end.isoformat()}")
    return start, end
