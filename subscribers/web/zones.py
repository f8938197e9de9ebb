"""The time zone choice on the forms: grouped IANA zones and a guess made without script.

A browser tells no server its time zone; only script can read it
(``Intl.DateTimeFormat().resolvedOptions().timeZone``, see ``templates/web/timezone.js``).
Without script the form preselects a guess from the ``Accept-Language`` header's region
(``en-GB`` → ``Europe/London``), for regions with a single time zone only; otherwise it
preselects "the list's time zone", stored as NULL so the reader follows ``PULSE_TIMEZONE``.
The reader sees the choice and can change it either way.
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from subscribers.profile import LEVELS, MAX_TIMEZONE_LENGTH, REGIONS, ROLES

# Areas people live in; the rest (Etc/GMT+5, US/Eastern, EST5EDT…) are aliases or legacy.
AREAS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
# Regions of the profile list (and a few more) that keep one civil time zone.
SINGLE_ZONE_REGIONS = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw",
    "IT": "Europe/Rome",
    "IL": "Asia/Jerusalem",
    "IN": "Asia/Kolkata",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "NZ": "Pacific/Auckland",
}
# "en-GB", "de_AT", "zh-Hant-TW": the region is the two-letter subtag after the language.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2})$")
MAX_HEADER = 500


@cache
def zone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The selectable zones, ``(area, zones)`` in alphabetical order; ``UTC`` comes first."""
    zones = available_timezones()
    groups = []
    for area in AREAS:
        names = sorted(
            z for z in zones if z.startswith(f"{area}/") and len(z) <= MAX_TIMEZONE_LENGTH
        )
        groups.append((area, tuple(names)))
    return (("UTC", ("UTC",)), *groups)


def listed(zone: str) -> bool:
    """Whether ``zone`` is one of the options :func:`zone_groups` gives."""
    return any(zone in names for _area, names in zone_groups())


def guess_timezone(accept_language: str | None) -> str | None:
    """A likely zone from the browser's first language with a single-zone region, if any."""
    for part in (accept_language or "")[:MAX_HEADER].split(",")[:6]:
        match = _LANGUAGE_TAG.match(part.split(";")[0].strip())
        if match:
            return SINGLE_ZONE_REGIONS.get(match.group(1).upper())
    return None


def profile_choices(default_timezone: str, guess: str | None = None) -> dict[str, object]:
    """What the profile selects of a form offer: the fixed lists, the zones, a zone guess.

    ``guess`` is preselected while the reader has chosen nothing, and the page's script may
    still replace it with the zone the browser reports (a guess is not a choice).
    """
    return {
        "guess": guess,
        "roles": ROLES,
        "levels": LEVELS,
        "regions": REGIONS,
        "zones": zone_groups(),
        "default_timezone": default_timezone,
    }
