"""How many items each section takes: minimums, maximums and the rules built from settings.

``PULSE_SECTION_LIMITS`` overrides the defaults per section, e.g.
``"role-insights=2-5,quick-links=0-8"`` (``name=min-max``, comma-separated).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from pipeline.content.models import Section


@dataclass(frozen=True)
class Limits:
    """The fewest items a section needs and the most it takes."""

    minimum: int
    maximum: int


# What counts as an item: snippets, except Salary Pulse (comparison tables with figures)
# and Who's Hiring (job listings).
DEFAULT_LIMITS: Mapping[Section, Limits] = MappingProxyType(
    {
        Section.EDITORS_NOTE: Limits(1, 1),
        Section.SALARY_PULSE: Limits(1, 3),
        Section.WHOS_HIRING: Limits(1, 8),
        Section.ROLE_INSIGHTS: Limits(1, 4),
        Section.QUICK_LINKS: Limits(0, 6),
    }
)
# Commentary snippets shown above the tables or listings of a data section.
DATA_SECTION_NOTES = 2


def parse_section_limits(value: str) -> dict[Section, Limits]:
    """Defaults overridden by ``name=min-max`` entries; raise ``ValueError`` on a bad entry."""
    limits = dict(DEFAULT_LIMITS)
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        name, sep, bounds = entry.partition("=")
        low, dash, high = bounds.partition("-")
        try:
            section = Section(name.strip().lower())
        except ValueError:
            valid = ", ".join(s.value for s in Section)
            raise ValueError(f"unknown section {name.strip()!r} (use {valid})") from None
        if not sep or not dash or not low.strip().isdigit() or not high.strip().isdigit():
            raise ValueError(f"{entry!r} must look like '{section.value}=1-4'")
        minimum, maximum = int(low), int(high)
        if maximum < minimum or maximum > 50:
            raise ValueError(f"{entry!r}: need min <= max <= 50")
        limits[section] = Limits(minimum, maximum)
    return limits


class RuleSettings(Protocol):
    """The settings the rules are read from (``Settings`` has them; this module does
    not import it, so the configuration can validate ``PULSE_SECTION_LIMITS`` with
    :func:`parse_section_limits` without a cycle)."""

    @property
    def section_limits(self) -> str: ...
    @property
    def salary_min_points(self) -> int: ...
    @property
    def salary_stale_days(self) -> int: ...
    @property
    def max_variants(self) -> int: ...


def no_region(location: str) -> str | None:
    """Without the wiring's place-name rules, no job's region is known."""
    return None


@dataclass(frozen=True)
class IssueRules:
    """The settings that shape and check an issue, as one small frozen value."""

    limits: Mapping[Section, Limits] = field(default_factory=lambda: DEFAULT_LIMITS)
    salary_min_points: int = 3
    salary_stale_days: int = 45
    # PULSE_MAX_VARIANTS: tailored variants rendered per issue besides the default.
    max_variants: int = 24
    # A job listing's location → its ISO region; the wiring hands in intake's
    # ``region_of`` (the intake stage imports this one, so it cannot be imported here).
    job_region: Callable[[str], str | None] = no_region

    @classmethod
    def from_settings(cls, settings: RuleSettings) -> IssueRules:
        return cls(
            limits=MappingProxyType(parse_section_limits(settings.section_limits)),
            salary_min_points=settings.salary_min_points,
            salary_stale_days=settings.salary_stale_days,
            max_variants=settings.max_variants,
        )


DEFAULT_RULES = IssueRules()
