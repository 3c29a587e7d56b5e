"""A CronJob's schedule read as the cronjob controller reads it: the five fields (minute, hour, day of month,
month, day of week; `*`, `a-b`, `*/n`, lists, month and day names, `?`), the `@daily`-style macros, and its
time zone; when it last fired before an instant, and whether a CronJob that should have succeeded since has
not (the fact `k8s_list` and `k8s_describe` report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
NAMES = {**{m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                         "NOV", "DEC"), 1)},
         **{d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}}
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
LOOK_BACK_DAYS = 366 * 5


def _value(text: str) -> int:
    return NAMES[text.upper()] if text.upper() in NAMES else int(text)


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        body, _, step = part.partition("/")
        if body in ("*", "?"):
            a, b = lo, hi
        elif "-" in body:
            a, b = (_value(x) for x in body.split("-", 1))
        else:
            a = _value(body)
            b = hi if step else a
        top = hi + (1 if hi == 6 else 0)  # day of week 7 is Sunday too
        if not (lo <= a <= top and lo <= b <= top) or int(step or 1) < 1:
            raise ValueError(f"{part!r} is out of range {lo}-{hi}")
        out |= {v % 7 if hi == 6 else v for v in range(a, b + 1, int(step or 1))}
    return out


class Schedule:
    """A parsed schedule; `previous(before)` is the last instant at or before `before` that it fires."""

    def __init__(self, schedule: str, time_zone: str | None = None):
        text = schedule.strip()
        if text.startswith(("CRON_TZ=", "TZ=")):
            zone, _, text = text.partition(" ")
            time_zone = zone.split("=", 1)[1]
        fields = MACROS.get(text.strip(), text).split()
        if len(fields) != 5:
            raise ValueError(f"{schedule!r} is not a five-field cron schedule")
        self.minutes, self.hours, self.days, self.months, self.weekdays = (
            _field(f, lo, hi) for f, (lo, hi) in zip(fields, BOUNDS))
        self.any_day, self.any_weekday = fields[2] in ("*", "?"), fields[4] in ("*", "?")
        try:
            self.zone = ZoneInfo(time_zone) if time_zone else UTC
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {time_zone!r}") from None

    def _day_ok(self, d: datetime) -> bool:
        if d.month not in self.months:
            return False
        by_day, by_weekday = d.day in self.days, (d.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:  # cron: both restricted means either may match
            return by_day and by_weekday
        return by_day or by_weekday

    def previous(self, before: datetime) -> datetime | None:
        """The last firing at or before `before` (None within five years)."""
        local = before.astimezone(self.zone).replace(second=0, microsecond=0)
        day = local.replace(hour=0, minute=0)
        for n in range(LOOK_BACK_DAYS):
            if self._day_ok(day):
                latest = local if n == 0 else day.replace(hour=23, minute=59)
                for h in sorted((h for h in self.hours if h <= latest.hour), reverse=True):
                    top = latest.minute if h == latest.hour else 59
                    m = max((m for m in self.minutes if m <= top), default=None)
                    if m is not None:
                        return day.replace(hour=h, minute=m).astimezone(UTC)
            day = (day - timedelta(days=1)).replace(hour=0, minute=0)
        return None


def overdue(schedule: str, time_zone: str | None, created: datetime, last_success: datetime | None,
            active: int, now: datetime) -> str | None:
    """Why a CronJob that is not suspended is not healthy, or None: the newest run its schedule called for
    (after it was created) is neither running nor succeeded."""
    try:
        due = Schedule(schedule, time_zone).previous(now)
    except ValueError as e:
        return f"its schedule cannot be read: {e}"
    if due is None or due < created or active:
        return None
    if last_success is None:
        return f"no successful run since it was created; it was due at {due:%Y-%m-%dT%H:%M:%SZ}"
    if last_success < due:
        return f"no success since {last_success:%Y-%m-%dT%H:%M:%SZ}; it was due at {due:%Y-%m-%dT%H:%M:%SZ}"
    return None
