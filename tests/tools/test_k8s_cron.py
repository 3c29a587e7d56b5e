"""A CronJob's schedule read as the controller reads it: when it last fired, and whether a CronJob that should
have succeeded since has not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.k8s_cron import Schedule, overdue

NOW = datetime(2026, 3, 14, 9, 7, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(("schedule", "zone", "fired"), [
    ("30 2 * * *", None, datetime(2026, 3, 14, 2, 30, tzinfo=UTC)),
    ("*/15 * * * MON-FRI", None, datetime(2026, 3, 13, 23, 45, tzinfo=UTC)),
    ("0 3 * * *", "Europe/Berlin", datetime(2026, 3, 14, 2, 0, tzinfo=UTC)),
    ("@monthly", None, datetime(2026, 3, 1, tzinfo=UTC)),
    ("0 0 13 * 5", None, datetime(2026, 3, 13, tzinfo=UTC)),  # day of month OR day of week
    ("CRON_TZ=America/New_York 0 9 * * *", None, datetime(2026, 3, 13, 13, 0, tzinfo=UTC)),
    ("7 9 * * 6", None, datetime(2026, 3, 14, 9, 7, tzinfo=UTC)),
])
def test_when_a_schedule_last_fired(schedule: str, zone: str | None, fired: datetime) -> None:
    assert Schedule(schedule, zone).previous(NOW) == fired


def test_a_schedule_that_cannot_be_read_is_said_so() -> None:
    with pytest.raises(ValueError, match="five-field"):
        Schedule("every night")
    assert overdue("61 * * * *", None, NOW - timedelta(days=9), None, 0, NOW).startswith(
        "its schedule cannot be read")


def test_overdue_only_when_the_due_run_neither_succeeded_nor_runs() -> None:
    created = NOW - timedelta(days=30)
    yesterday = datetime(2026, 3, 13, 2, 31, tzinfo=UTC)
    assert overdue("30 2 * * *", None, created, datetime(2026, 3, 14, 2, 31, tzinfo=UTC), 0, NOW) is None
    assert overdue("30 2 * * *", None, created, yesterday, 1, NOW) is None  # today's run is still running
    assert overdue("30 2 * * *", None, created, yesterday, 0, NOW) == \
        "no success since 2026-03-13T02:31:00Z; it was due at 2026-03-14T02:30:00Z"
    assert overdue("30 2 * * *", None, NOW - timedelta(hours=1), None, 0, NOW) is None  # nothing due yet
    assert overdue("30 2 * * *", None, created, None, 0, NOW) == \
        "no successful run since it was created; it was due at 2026-03-14T02:30:00Z"
