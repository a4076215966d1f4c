"""The period a digest covers: an ISO week or a span of calendar days, in the digest's time zone.

Weeks and days are cut in local time (Asia/Shanghai by default) because that is the calendar the
programme's notices are dated in; the database stores UTC, so the window carries both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class WindowError(ValueError):
    """A --week, --since or --until value that does not name a valid period."""


@dataclass(frozen=True)
class Window:
    since: datetime  # inclusive, timezone-aware UTC
    until: datetime  # exclusive, timezone-aware UTC
    label: str  # "2026-W48" or "2026-11-16 to 2026-11-22"
    tz: str = "UTC"

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    @property
    def last_moment(self) -> datetime:
        """The last instant inside the window, for printing its (inclusive) last day."""
        return self.until - timedelta(microseconds=1)

    @property
    def key(self) -> str:
        """A file-name-safe identifier: what a digest file and its sent record are named after."""
        return self.label.replace(" to ", "_")

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(zone(self.tz))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"unknown time zone {name!r}") from None


def _start_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(timezone.utc)


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def iso_week(value: str, tz: str = "UTC") -> Window:
    match = _WEEK.match(value.strip())
    if not match:
        raise WindowError(f"week must look like 2026-W48, got {value!r}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise WindowError(f"no such ISO week: {value!r}") from None
    year, week, _ = monday.isocalendar()
    return Window(_start_of(monday, tz), _start_of(monday + timedelta(days=7), tz), f"{year}-W{week:02d}", tz)


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise WindowError(f"{flag} must be a date like 2026-11-16, got {value!r}") from None


def date_span(since: str, until: str, tz: str = "UTC") -> Window:
    """`until` is inclusive: --since 2026-11-16 --until 2026-11-22 is the whole of that week."""
    first, last = _day(since, "--since"), _day(until, "--until")
    if last < first:
        raise WindowError(f"--until {last} is before --since {first}")
    return Window(_start_of(first, tz), _start_of(last + timedelta(days=1), tz), f"{first} to {last}", tz)


def last_days(days: int, now: datetime, tz: str = "UTC") -> Window:
    if days < 1:
        raise WindowError(f"--days must be at least 1, got {days}")
    until = now.astimezone(timezone.utc)
    since = until - timedelta(days=days)
    fmt = "%Y-%m-%d"
    return Window(since, until, f"{since.astimezone(zone(tz)).strftime(fmt)} to "
                  f"{until.astimezone(zone(tz)).strftime(fmt)}", tz)


def previous_week(now: datetime, tz: str = "UTC") -> Window:
    """The last complete ISO week before `now`: what a Monday-morning job reports on."""
    local_day = now.astimezone(zone(tz)).date() - timedelta(days=7)
    year, week, _ = local_day.isocalendar()
    return iso_week(f"{year}-W{week:02d}", tz)
