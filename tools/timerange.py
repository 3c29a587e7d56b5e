"""Durations ("90s", "30m", "2h", "1d") and points in time for tool arguments: "last 30m", "30m", ISO 8601, and
the way people say it ("yesterday 14:00", "last Thursday", "3 hours ago", "2026-11-20"), read by dateparser
in UTC against the caller's now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import dateparser

from policies import durations
from tools.base import ToolInputError

TIME_EXAMPLES = ("2h", "last 30m", "since 10:00", "yesterday 14:00", "last Thursday")  # each one parses (a test)
ISO_EXAMPLE = "2026-11-22T10:00:00Z"
_LEADING = re.compile(r"^(--since[= ]|--until[= ]|since|from|until|till|to|starting)\s*", re.IGNORECASE)
# how people and shells lead a span back from now: "since 10m", "last 30m", "for 1h", "--since=10m", "10m ago"
_SPOKEN_SPAN = re.compile(r"^\d+\s*[a-z]+$")
_SPAN = re.compile(r"^(?:--since[= ]|(?:since|last|for|past|from)\s)\s*(.+?)$|^(.+?)\s+ago$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '2h', '-5m' → timedelta. Raises ToolInputError with the accepted forms."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as e:
        raise ToolInputError(str(e)) from None


def parse_point(text: str, now: datetime) -> datetime:
    """'30m', 'last 30m', 'since 30m', 'for 30m', '--since 30m', '30m ago' (that long ago), 'now', an ISO 8601 time
    (UTC when no zone is given), or a time as people say it ('since 10:00', 'yesterday 14:00')."""
    t = text.strip().lower()
    if t == "now":
        return now
    span = _SPAN.match(t)
    if span and durations.is_duration(span.group(1) or span.group(2)):
        t = span.group(1) or span.group(2)
    if durations.is_duration(t):
        return now - abs(parse_duration(t))
    try:
        when = datetime.fromisoformat(_LEADING.sub("", text.strip()).replace("Z", "+00:00"))
    except ValueError:
        spoken = span.group(1) if span and span.group(1) and _SPOKEN_SPAN.match(span.group(1)) else None
        return _natural(f"{spoken} ago" if spoken else text, now)  # "last 2 hours" is 2 hours ago
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _natural(text: str, now: datetime) -> datetime:
    spoken = _LEADING.sub("", text.strip())
    base = now.astimezone(UTC).replace(tzinfo=None)
    when = dateparser.parse(spoken, languages=["en"], settings={
        "RELATIVE_BASE": base, "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past"}) if spoken else None
    if when is None:
        raise ToolInputError(f"'{text}' is not a time; use {', '.join(repr(e) for e in TIME_EXAMPLES)} "
                             f"or an ISO time such as {ISO_EXAMPLE}")
    return when


def parse_range(since: str, until: str, now: datetime) -> tuple[datetime, datetime]:
    start, end = parse_point(since, now), parse_point(until, now)
    if start >= end:
        raise ToolInputError(f"the time range is empty: {start.isoformat()} is not before {end.isoformat()}")
    return start, end
