"""A reader's profile: role, level, region and time zone, each optional.

Readers give these at signup or in their preferences (operators may set them too); the
weekly issue is tailored by them (salary rows for the reader's level and region first, jobs
in the reader's region first) and sent at a local hour in the reader's time zone. Each field
takes only the values listed here, so a profile can never carry text into a page or header.

Levels and regions are the ones the salary data uses: ``LEVEL_LABELS`` maps a profile level
to the ``SalaryPoint.level`` text, and regions are the ISO 3166-1 alpha-2 codes intake
writes into ``SalaryPoint.region`` and ``JobListing``'s location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pulse_core.errors import ValidationError

# Stored value → what a reader sees in the form.
ROLES: Mapping[str, str] = {
    "ai-se": "AI Sales Engineer",
    "se-manager": "SE manager",
    "mle-considering-se": "ML engineer considering SE",
    "other": "Other",
}
LEVELS: Mapping[str, str] = {
    "mid": "Mid-level",
    "senior": "Senior",
    "staff": "Staff / Principal",
}
# The salary data's level names, as SalaryPoint.level spells them.
LEVEL_LABELS: Mapping[str, str] = LEVELS
REGIONS: Mapping[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "MX": "Mexico",
    "BR": "Brazil",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "DE": "Germany",
    "AT": "Austria",
    "CH": "Switzerland",
    "FR": "France",
    "BE": "Belgium",
    "NL": "Netherlands",
    "DK": "Denmark",
    "NO": "Norway",
    "SE": "Sweden",
    "FI": "Finland",
    "PL": "Poland",
    "PT": "Portugal",
    "ES": "Spain",
    "IT": "Italy",
    "IL": "Israel",
    "IN": "India",
    "SG": "Singapore",
    "JP": "Japan",
    "AU": "Australia",
    "NZ": "New Zealand",
}
PROFILE_FIELDS = ("role", "level", "region", "timezone")
MAX_TIMEZONE_LENGTH = 64


@dataclass(frozen=True)
class Profile:
    """A validated profile; ``None`` means the reader did not say."""

    role: str | None = None
    level: str | None = None
    region: str | None = None
    timezone: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in PROFILE_FIELDS}


# Nothing said: the default issue, at the list's own time zone.
NO_PROFILE = Profile()


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def clean_choice(raw: str | None, choices: Mapping[str, str], field: str) -> str | None:
    """``raw`` if it is one of ``choices`` (blank → ``None``), else a ValidationError."""
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        return None
    value = value.upper() if field == "region" else value.lower()
    if value not in choices:
        raise ValidationError(field, f"must be one of {', '.join(choices)}")
    return value


def clean_timezone(raw: str | None, field: str = "timezone") -> str | None:
    """An IANA time zone name such as ``Europe/London`` (blank → ``None``)."""
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        return None
    if len(value) > MAX_TIMEZONE_LENGTH or value not in _known_zones():
        raise ValidationError(field, "must be an IANA time zone name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValidationError(field, "is not a time zone this system knows") from err
    return value


def clean_profile(raw: Mapping[str, str | None]) -> Profile:
    """Validate the profile fields present in ``raw`` (absent or blank → not given)."""
    return Profile(
        role=clean_choice(raw.get("role"), ROLES, "role"),
        level=clean_choice(raw.get("level"), LEVELS, "level"),
        region=clean_choice(raw.get("region"), REGIONS, "region"),
        timezone=clean_timezone(raw.get("timezone")),
    )
