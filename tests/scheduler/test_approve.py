""""Approve" means one thing everywhere: go ahead at the scheduled send time.

Before the workflow package ``pulse issue approve`` sent the issue at once while the desk's
approve waited for the schedule; and a held issue approved after its send time was never
sent by the scheduler (its re-check only looked at held issues).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pipeline.delivery.models import Delivery
from pipeline.delivery.report import SendReport
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler.job import WeeklyJob, send_outcome
from pipeline.wiring import Pulse
from tests.conftest import Cli, Workspace
from tests.scheduler.conftest import WEEK, seed
from tests.scheduler.test_job import make_unready, outbox_count

JobFactory = Callable[[], WeeklyJob]


def _issue(pulse: Pulse) -> Issue:
    with pulse.db.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        return issue


def _deliveries(pulse: Pulse) -> int:
    with pulse.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)


def test_cli_approve_records_the_go_ahead_and_sends_nothing(
    pulse: Pulse, cli: Cli, workspace: Workspace
) -> None:
    seed(pulse)
    approved = cli("issue", "approve", "--week", WEEK, "--editor", "ed@example.com")
    assert approved.exit_code == 0, approved.stderr
    assert f"{WEEK}: approved by ed@example.com" in approved.stdout
    assert f"pulse issue send --week {WEEK}" in approved.stdout
    issue = _issue(pulse)
    assert issue.status is IssueStatus.BUILT and issue.approved_by == "ed@example.com"
    assert issue.status_decision == "approve" and issue.send_requested_at is None
    assert _deliveries(pulse) == 0 and outbox_count(workspace) == 0


def test_a_held_issue_approved_after_its_send_time_goes_out_at_the_next_recheck(
    pulse: Pulse, cli: Cli, make_job: JobFactory, workspace: Workspace
) -> None:
    seed(pulse)
    make_unready(pulse)
    job = make_job()
    due = job.schedule.send_time(WEEK)
    assert job.run_due(due).action == "held"
    assert job.recheck(due + timedelta(hours=1)).action == "waiting"
    assert cli("issue", "approve", "--week", WEEK).exit_code == 0
    assert _issue(pulse).status is IssueStatus.BUILT and outbox_count(workspace) == 0
    assert job.recheck(due + timedelta(hours=2)).action == "sent"
    assert outbox_count(workspace) == 12


def test_an_approval_in_advance_waits_for_the_weekly_run(
    pulse: Pulse, cli: Cli, make_job: JobFactory, workspace: Workspace
) -> None:
    seed(pulse)
    assert cli("issue", "approve", "--week", WEEK).exit_code == 0
    job = make_job()
    due = job.schedule.send_time(WEEK)
    assert job.recheck(due - timedelta(days=6)).action == "nothing"  # last week's slot
    assert outbox_count(workspace) == 0
    assert job.run_due(due).action == "sent"


@pytest.mark.parametrize(
    ("report", "action"),
    [
        (SendReport(WEEK, finished=True), "sent"),
        (SendReport(WEEK, paused_reason="bounce rate"), "paused"),
        (SendReport(WEEK, stopped_reason="SIGTERM"), "interrupted"),
        (
            SendReport(WEEK, retries_pending=2, next_retry_at=datetime(2026, 11, 24, tzinfo=UTC)),
            "retries-pending",
        ),
        (SendReport(WEEK, in_flight_elsewhere=3), "unfinished"),
    ],
)
def test_the_jobs_outcome_says_how_the_send_run_ended(report: SendReport, action: str) -> None:
    outcome = send_outcome(report)
    assert outcome.action == action and outcome.week == WEEK
    if action != "sent":
        assert report.describe_end() in outcome.detail
