"""The weekly job with a controlled clock: send once, catch up, hold, remind, approve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline.content import queue
from pipeline.content.models import Snippet
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler.job import WeeklyJob
from pipeline.scheduler.notify import EditorNotifier
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.conftest import Cli, Workspace
from tests.scheduler.conftest import WEEK, RecordingNotifier, seed

JobFactory = Callable[[], WeeklyJob]


def issue_status(pulse: Pulse, week: str = WEEK) -> IssueStatus | None:
    with pulse.db.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == week))
        return None if issue is None else issue.status


def outbox_count(workspace: Workspace, week: str = WEEK) -> int:
    return len(list((workspace.outbox / week).glob("*.eml")))


def make_unready(pulse: Pulse) -> None:
    """Retire the role insights so the section falls below its minimum."""
    with transaction(pulse.db.sessions) as session:
        session.execute(
            update(Snippet).where(Snippet.section == "role-insights").values(status="draft")
        )


def test_due_job_sends_once_and_only_once(
    pulse: Pulse, make_job: JobFactory, workspace: Workspace
) -> None:
    seed(pulse)
    job = make_job()
    due = job.schedule.send_time(WEEK)
    assert job.run_due(due).action == "sent"
    assert job.run_due(due + timedelta(minutes=1)).action == "already-run"
    assert make_job().run_due(due).action == "already-run"  # a second scheduler
    assert outbox_count(workspace) == 12
    assert issue_status(pulse) is IssueStatus.SENT


def test_downtime_within_grace_catches_up_once(
    pulse: Pulse, make_job: JobFactory, workspace: Workspace
) -> None:
    seed(pulse)
    job = make_job()
    late = job.schedule.send_time(WEEK) + timedelta(hours=5, minutes=59)
    assert job.catch_up(late).action == "sent"
    assert make_job().catch_up(late + timedelta(minutes=5)).action == "nothing"
    assert outbox_count(workspace) == 12


def test_downtime_beyond_grace_builds_and_sends_nothing_and_tells_editors(
    pulse: Pulse,
    make_job: JobFactory,
    notifier: RecordingNotifier,
    cli: Cli,
    workspace: Workspace,
) -> None:
    seed(pulse)
    job = make_job()
    late = job.schedule.send_time(WEEK) + timedelta(hours=6, minutes=1)
    outcome = job.catch_up(late)
    assert outcome.action == "missed"
    assert "Nothing was built or sent" in outcome.detail
    assert issue_status(pulse) is None  # nothing built: the queue is left for the next issue
    with pulse.db.sessions() as session:
        queued = session.scalar(select(Snippet).where(Snippet.issue_id.is_not(None)))
    assert queued is None
    assert outbox_count(workspace) == 0
    assert len(notifier.sent) == 1 and "scheduler was down" in notifier.sent[0][0]
    assert f"pulse issue send --week {WEEK} --yes" in notifier.sent[0][1]
    # Later re-checks and restarts neither build it nor tell the editors again.
    assert job.catch_up(late + timedelta(hours=1)).action == "nothing"
    for hour in range(1, 48):
        assert job.tick(late + timedelta(hours=hour)) == [] or all(
            o.action == "reminded" for o in job.tick(late + timedelta(hours=hour))
        )
    assert issue_status(pulse) is None and len(notifier.sent) <= 2

    # An editor who still wants the week sends it by hand.
    built = cli("issue", "build", "--week", WEEK)
    assert built.exit_code == 0, built.stdout
    sent = cli("issue", "send", "--week", WEEK, "--yes")
    assert sent.exit_code == 0, sent.stderr
    assert outbox_count(workspace) == 12
    assert issue_status(pulse) is IssueStatus.SENT


def test_catch_up_says_it_is_catching_up(
    pulse: Pulse, make_job: JobFactory, notifier: RecordingNotifier
) -> None:
    seed(pulse)
    late = make_job().schedule.send_time(WEEK) + timedelta(hours=2)
    outcome = make_job().catch_up(late)
    assert outcome.action == "sent"
    assert "catching up 2026-W48" in outcome.detail and "within the 6-hour" in outcome.detail
    assert notifier.sent[0][0] == "2026-W48: catching up a missed send"


def test_a_held_week_is_not_sent_when_the_scheduler_slept_through_its_deadline(
    pulse: Pulse, make_job: JobFactory, notifier: RecordingNotifier, workspace: Workspace
) -> None:
    seed(pulse)
    make_unready(pulse)
    job = make_job()
    due = job.schedule.send_time(WEEK)
    assert job.run_due(due).action == "held"
    # Down from just after the send until three days later; ready meanwhile.
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(session, section="role-insights", title="Quarter-end is SE season")
    outcome = job.catch_up(due + timedelta(days=3))
    assert outcome.action == "missed" and "stays held" in outcome.detail
    assert issue_status(pulse) is IssueStatus.HELD
    assert outbox_count(workspace) == 0
    assert job.recheck(due + timedelta(days=3, hours=1)).action == "nothing"


def test_unready_issue_is_held_rechecked_and_sent_when_ready(
    pulse: Pulse, make_job: JobFactory, notifier: RecordingNotifier, workspace: Workspace
) -> None:
    seed(pulse)
    make_unready(pulse)
    job = make_job()
    due = job.schedule.send_time(WEEK)
    outcome = job.run_due(due)
    assert outcome.action == "held"
    assert "Role Insights" in outcome.detail
    assert issue_status(pulse) is IssueStatus.HELD
    assert [subject for subject, _ in notifier.sent] == [f"{WEEK} is on hold: not ready"]
    assert job.recheck(due + timedelta(hours=1)).action == "waiting"
    assert issue_status(pulse) is IssueStatus.HELD
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(session, section="role-insights", title="Quarter-end is SE season")
    assert job.recheck(due + timedelta(hours=2)).action == "sent"
    assert outbox_count(workspace) == 12
    assert len(notifier.sent) == 1


@pytest.mark.parametrize("policy", ["send", "skip"])
def test_deadline_sends_what_is_ready_or_skips(
    pulse: Pulse,
    workspace: Workspace,
    notifier: RecordingNotifier,
    monkeypatch: pytest.MonkeyPatch,
    make_job: JobFactory,
    policy: str,
) -> None:
    monkeypatch.setenv("PULSE_ON_DEADLINE", policy)
    monkeypatch.setenv("PULSE_HOLD_DEADLINE_HOURS", "4")
    fresh = Pulse(type(pulse.settings)())
    seed(fresh)
    make_unready(fresh)
    from pipeline.schedule import WeeklySchedule

    job = WeeklyJob(fresh, WeeklySchedule.parse("tue 09:00", "America/New_York"), notifier)
    due = job.schedule.send_time(WEEK)
    assert job.run_due(due).action == "held"
    assert job.recheck(due + timedelta(hours=3)).action == "waiting"
    outcome = job.recheck(due + timedelta(hours=4))
    assert outcome.action == ("sent" if policy == "send" else "skipped")
    assert outbox_count(workspace) == (12 if policy == "send" else 0)
    assert "deadline reached" in notifier.sent[-1][0]
    assert job.recheck(due + timedelta(hours=5)).action == "nothing"
    fresh.close()


def test_reminder_goes_out_once_before_the_send(
    pulse: Pulse, make_job: JobFactory, notifier: RecordingNotifier
) -> None:
    seed(pulse)
    job = make_job()
    due = job.schedule.send_time(WEEK)
    assert job.remind(due - timedelta(hours=49)).action == "nothing"
    reminded = job.remind(due - timedelta(hours=47))
    assert reminded.action == "reminded" and reminded.week == WEEK
    assert job.remind(due - timedelta(hours=46)).action == "nothing"
    assert len(notifier.sent) == 1
    assert "2026-W48: ready" in notifier.sent[0][1]


def test_editor_report_is_emailed_through_the_provider(
    pulse: Pulse, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_EDITOR_EMAILS", "ed@example.com, desk@example.com")
    fresh = Pulse(type(pulse.settings)())
    sent = EditorNotifier(fresh)("W48 is on hold", "Role Insights: missing 1 <b>%%pulse:x%%")
    assert sent == 2
    files = list((workspace.outbox / "transactional").glob("*.eml"))
    assert len(files) == 2
    body = files[0].read_text()
    assert "[AISE Pulse Brief] W48 is on hold" in body
    assert "&lt;b&gt;" in body
    fresh.close()
