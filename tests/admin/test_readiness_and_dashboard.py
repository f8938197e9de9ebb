"""The dashboard: readiness per section (pipeline.issues.readiness), the schedule, checks."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.demo.seed import seed_week
from pipeline.schedule import WeeklySchedule
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow.calendar import next_send_time
from pulse_core.database import transaction
from tests.admin.conftest import Desk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEEK = "2026-W48"


def _fill(pulse: Pulse) -> None:
    """A complete, lint-clean week (the demo's content)."""
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), 3)


def test_next_send_time_is_in_the_editors_time_zone(workspace: object) -> None:
    schedule = WeeklySchedule.parse("tue 09:00", "America/New_York")
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    at = next_send_time(schedule, wednesday)
    assert (at.year, at.month, at.day, at.hour, at.minute) == (2026, 12, 1, 9, 0)
    assert at.utcoffset() is not None and at.utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]
    monday = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert next_send_time(schedule, monday).day == 1


def test_the_dashboard_shows_readiness_schedule_and_checks(desk: Desk) -> None:
    client = desk.editor()
    page = client.get("/admin").text
    assert "not ready" in page
    assert "America/New_York" in page
    assert "no salary data recorded yet" in page
    assert "PULSE_POSTAL_ADDRESS" not in page  # the workspace sets a real address
    _fill(desk.pulse)
    page = client.get("/admin").text
    assert 'class="ok">ready</span>' in page
