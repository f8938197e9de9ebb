"""Readiness per section, and the dashboard that shows it with the schedule and checks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.config import load_settings
from pipeline.content.models import Section
from pipeline.content.queue import SalaryInput, add_job, add_salary_point, add_snippet
from pipeline.issues.lifecycle import next_send_time
from pipeline.issues.readiness import check_readiness
from pipeline.weekly import build_week
from pipeline.wiring import Pulse
from subscribers.database import transaction
from tests.admin.conftest import Desk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEEK = "2026-W48"


def _fill(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        for section in Section:
            add_snippet(session, section=section.value, title=f"About {section.value}")
        add_job(session, company="Acme", title="AI SE", location="NYC",
                url="https://acme.example/1")  # fmt: skip
        add_salary_point(session, SalaryInput("AI Sales Engineer", "Senior", "USD", 1, 2, "US",
                                              "Survey", 5, date(2026, 11, 1)))  # fmt: skip


def test_an_empty_week_lists_every_missing_piece(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        report = check_readiness(session, week=WEEK, settings=pulse.settings, now=NOW)
    assert not report.ready
    assert all(item.missing == 1 for item in report.sections)
    assert any("no open job listings" in p for p in report.problems)
    assert any("no salary data" in p for p in report.problems)
    assert "role-insights: 0/1 (needs 1 more)" in report.as_text()


def test_a_full_week_is_ready_and_stays_ready_once_built(pulse: Pulse) -> None:
    _fill(pulse)
    with transaction(pulse.db.sessions) as session:
        assert check_readiness(session, week=WEEK, settings=pulse.settings, now=NOW).ready
    build_week(pulse, WEEK)  # snippets and jobs now belong to the issue
    with transaction(pulse.db.sessions) as session:
        report = check_readiness(session, week=WEEK, settings=pulse.settings, now=NOW)
        other = check_readiness(session, week="2026-W49", settings=pulse.settings, now=NOW)
    assert report.ready, report.as_text()
    assert not other.ready  # the next week starts from an empty queue


def test_snippets_targeted_at_another_week_do_not_count(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        add_snippet(session, section="quick-links", title="Later", target_week="2026-W50")
        report = check_readiness(session, week=WEEK, settings=pulse.settings, now=NOW)
    quick = next(item for item in report.sections if item.section == "quick-links")
    assert quick.have == 0


def test_next_send_time_is_in_the_editors_time_zone(workspace: object) -> None:
    settings = load_settings(schedule="tue 09:00", timezone="America/New_York")
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    at = next_send_time(settings, wednesday)
    assert (at.year, at.month, at.day, at.hour, at.minute) == (2026, 12, 1, 9, 0)
    assert at.utcoffset() is not None and at.utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]
    monday = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert next_send_time(settings, monday).day == 1


def test_the_dashboard_shows_readiness_schedule_and_checks(desk: Desk) -> None:
    client = desk.editor()
    page = client.get("/admin").text
    assert "not ready" in page
    assert "America/New_York" in page
    assert "needs 1 more ready snippet" in page
    assert "PULSE_POSTAL_ADDRESS" not in page  # the workspace sets a real address
    _fill(desk.pulse)
    page = client.get("/admin").text
    assert 'class="ok">ready</span>' in page
