"""Sections with slots, Who's Hiring rules, and subject/preheader defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.config import load_settings
from pipeline.content import queue
from pipeline.content.models import Section
from pipeline.errors import ConfigError, ValidationError
from pipeline.issues.assemble import assemble, default_subject
from pipeline.issues.slots import IssueRules, Limits, parse_section_limits
from pipeline.issues.view import view_from_json, view_to_json
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction

WEEK, NEXT = "2026-W48", "2026-W49"


def titles(pulse: Pulse, week: str, rules: IssueRules | None = None) -> dict[Section, list[str]]:
    with pulse.db.sessions() as session:
        view = assemble(session, week=week, number=1, rules=rules or IssueRules()).view
    return {s.section: [i.title for i in s.items] for s in view.sections}


def test_ready_items_fill_slots_in_editor_order_oldest_first(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        for title, position in (("third", 2), ("first", 0), ("second-a", 1), ("second-b", 1)):
            queue.add_snippet(session, section="role-insights", title=title, position=position)
        queue.add_snippet(session, section="role-insights", title="draft", status="draft")
    rules = IssueRules(limits={**IssueRules().limits, Section.ROLE_INSIGHTS: Limits(1, 3)})
    assert titles(pulse, WEEK, rules)[Section.ROLE_INSIGHTS] == ["first", "second-a", "second-b"]


def test_left_over_items_wait_for_next_week(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(session, section="editors-note", title="note one")
        queue.add_snippet(session, section="editors-note", title="note two")
    weekly.build_week(pulse, WEEK)
    assert titles(pulse, NEXT)[Section.EDITORS_NOTE] == ["note two"]


def test_targeted_items_go_to_their_week_only_and_first(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(session, section="quick-links", title="any week")
        queue.add_snippet(session, section="quick-links", title="for W49", target_week=NEXT)
    assert titles(pulse, WEEK)[Section.QUICK_LINKS] == ["any week"]
    assert titles(pulse, NEXT)[Section.QUICK_LINKS] == ["for W49", "any week"]


def test_same_listing_never_appears_in_two_issues_and_expired_are_dropped(pulse: Pulse) -> None:
    monday = week_monday(WEEK)
    with transaction(pulse.db.sessions) as session:
        queue.add_job(
            session, company="A", title="SE", location="NYC", url="https://a.example.com/1"
        )
        queue.add_job(
            session,
            company="B",
            title="Expired SE",
            location="SF",
            url="https://b.example.com/1",
            expires_on=monday - timedelta(days=1),
        )
        with pytest.raises(ValidationError, match="already listed"):
            queue.add_job(
                session, company="A", title="SE", location="NYC", url="https://a.example.com/1"
            )
    first = weekly.build_week(pulse, WEEK).issue
    assert first.view_json is not None
    assert [j.url for j in view_from_json(first.view_json).jobs] == ["https://a.example.com/1"]
    second = weekly.build_week(pulse, NEXT).issue
    assert second.view_json is not None and view_from_json(second.view_json).jobs == ()
    assert "b.example.com" not in first.html


def test_section_limits_come_from_settings() -> None:
    limits = parse_section_limits("role-insights=2-5, quick-links=0-0")
    assert limits[Section.ROLE_INSIGHTS] == Limits(2, 5)
    assert limits[Section.EDITORS_NOTE] == Limits(1, 1)  # default kept
    rules = IssueRules.from_settings(load_settings(section_limits="whos-hiring=3-4"))
    assert rules.limits[Section.WHOS_HIRING] == Limits(3, 4)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope=1-2", "unknown section 'nope'"),
        ("quick-links=3", "must look like"),
        ("quick-links=4-2", "min <= max"),
    ],
)
def test_bad_section_limits_name_the_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"PULSE_SECTION_LIMITS: .*{message}"):
        load_settings(section_limits=value)


def test_default_subject_names_number_and_lead_within_70() -> None:
    assert default_subject(12, "Pay holds") == "AISE Pulse Brief #12: Pay holds"
    long = default_subject(12, "word " * 30)
    assert len(long) <= 70 and long.endswith("…") and long.startswith("AISE Pulse Brief #12: ")


def test_default_subject_and_preheader_come_from_the_lead_item(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(
            session, section="editors-note", title="Quarter-end", body="Hiring picks **up**."
        )
    issue = weekly.build_week(pulse, WEEK).issue
    assert issue.subject == "AISE Pulse Brief #1: Quarter-end"
    assert issue.preheader == "Hiring picks up."


def test_editor_subject_and_preheader_are_length_checked(pulse: Pulse) -> None:
    with pytest.raises(ValidationError, match="subject: must be at most 70"):
        weekly.build_week(pulse, WEEK, subject="x" * 71)
    with pytest.raises(ValidationError, match="preheader: must be at most 110"):
        weekly.build_week(pulse, WEEK, preheader="x" * 111)
    issue = weekly.build_week(pulse, WEEK, subject="Our pick", preheader="Short").issue
    assert (issue.subject, issue.preheader) == ("Our pick", "Short")


def test_view_survives_its_json_round_trip() -> None:
    from tests.issues.conftest import fixed_view

    view = fixed_view()
    assert view_from_json(view_to_json(view)) == view
