"""Points in time as people say them, resolved in UTC against the caller's now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.base import ToolInputError
from tools.timerange import parse_point, parse_range

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(("said", "meant"), [
    ("last 30m", datetime(2026, 12, 1, 11, 30, tzinfo=UTC)),
    ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, 0, tzinfo=UTC)),
    ("yesterday 14:00", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
    ("last Thursday", datetime(2026, 11, 26, 0, 0, tzinfo=UTC)),
    ("since last thursday", datetime(2026, 11, 26, 0, 0, tzinfo=UTC)),
    ("3 hours ago", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 20, 0, 0, tzinfo=UTC)),
])
def test_a_point_in_time_as_people_say_it(said: str, meant: datetime) -> None:
    assert parse_point(said, NOW) == meant


def test_nonsense_is_refused_with_the_forms_that_work() -> None:
    with pytest.raises(ToolInputError, match="'yesterday 14:00', 'last Thursday'"):
        parse_point("when the moon is blue", NOW)


def test_a_spoken_range_resolves_to_its_window() -> None:
    start, end = parse_range("yesterday 14:00", "now", NOW)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-30T14:00:00+00:00", "2026-12-01T12:00:00+00:00")
