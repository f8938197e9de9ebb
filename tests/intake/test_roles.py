"""Role rules, levels from titles, regions from locations (remote counts as its country)."""

from __future__ import annotations

import pytest

from pipeline.intake.roles import RoleRules, level_of, parse_phrases, region_of


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("Senior Solutions Engineer, AI", True),
        ("Pre-Sales Engineer", True),
        ("Presales Consultant", True),
        ("Forward Deployed Engineer", True),
        ("Customer Engineer, Google Cloud", True),
        ("Solutions Architect - GenAI", True),
        ("Sales Engineering Intern", False),
        ("Solutions Engineer Intern", False),
        ("Technical Recruiter, Sales Engineering", False),
        ("Account Executive", False),
        ("Software Engineer", False),
        ("Solutions Engineering Manager", False),  # "solutions engineering" is not a phrase
    ],
)
def test_default_role_rules(title: str, kept: bool) -> None:
    assert RoleRules().matches(title) is kept


def test_configured_phrases_replace_the_defaults() -> None:
    rules = RoleRules(include=parse_phrases("account executive, AE"), exclude=parse_phrases(""))
    assert rules.matches("Enterprise Account Executive")
    assert not rules.matches("Sales Engineer")


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Solutions Engineer", "Mid-level"),
        ("Senior Solutions Engineer", "Senior"),
        ("Sr. Sales Engineer", "Senior"),
        ("Staff Solutions Architect", "Staff / Principal"),
        ("Principal Forward Deployed Engineer", "Staff / Principal"),
        ("Manager, Solutions Engineering", "Manager / Director"),
        ("Associate Sales Engineer", "Junior"),
    ],
)
def test_level_from_title(title: str, level: str) -> None:
    assert level_of(title) == level


@pytest.mark.parametrize(
    ("location", "hint", "region"),
    [
        ("Remote (US)", None, "US"),
        ("Remote - United States", None, "US"),
        ("San Francisco, CA", None, "US"),
        ("New York, NY (hybrid)", None, "US"),
        ("London, UK", None, "GB"),
        ("Toronto, ON", None, "CA"),
        ("Berlin, Germany", None, "DE"),
        ("Remote", None, None),
        ("Remote (US/Canada)", None, None),
        ("Remote - North America", None, None),
        ("Houston, TX", "USA", "US"),
        ("Anywhere", "US", "US"),
        ("London", "US", None),  # the board and the text disagree: no guess
    ],
)
def test_region_from_location(location: str, hint: str | None, region: str | None) -> None:
    assert region_of(location, hint) == region
