"""ISO week keys such as ``2026-W48``, and the weekday names ``PULSE_SCHEDULE`` uses."""

from __future__ import annotations

import re
from datetime import date, datetime

from pipeline.errors import ValidationError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# Weeks a newsletter can have: far enough either way, and far from date's year-9999 edge
# (the week after 9999-W52 does not exist, and arithmetic on it raised OverflowError).
MIN_YEAR = 2000
MAX_YEAR = 2999
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday first, as date.weekday()


def week_key(day: date) -> str:
    """The ISO week key of ``day``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: str, *, field: str = "week") -> str:
    """Validate a week key and return it normalised; raise naming ``field``."""
    match = _WEEK.match(value.strip().upper())
    if match is None:
        raise ValidationError(field, f"{value!r} is not an ISO week such as 2026-W48")
    year, week = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            field, f"{value!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}"
        )
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as err:
        raise ValidationError(field, f"{value!r}: {year} has no week {week}") from err
    return f"{year}-W{week:02d}"


def week_monday(key: str) -> date:
    """The Monday that starts the ISO week ``key``."""
    year, week = key.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def current_week(now: datetime) -> str:
    return week_key(now.date())
