"""ISO week keys such as ``2026-W48``."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pipeline.errors import ValidationError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


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


def previous_week(key: str) -> str:
    return week_key(week_monday(key) - timedelta(days=7))
