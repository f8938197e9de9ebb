"""Issue 21 items 2 and 4: discarding an issue, and preparing the next unsent week."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pipeline.content.models import JobListing, Snippet, SnippetStatus
from pipeline.issues.lifecycle import allowed_actions
from pipeline.issues.models import Issue, IssueStatus
from pipeline.schedule import WeeklySchedule
from pipeline.weeks import week_key, week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pipeline.workflow.calendar import next_unsent_week
from pulse_core.database import utcnow
from tests.admin.conftest import Desk, csrf_of
from tests.conftest import Cli
from tests.scheduler.conftest import seed

STRAY = "2026-W40"


def _issue(pulse: Pulse, week: str) -> Issue | None:
    with pulse.db.sessions() as session:
        return session.scalar(select(Issue).where(Issue.week_key == week))


def _held_stray(pulse: Pulse) -> None:
    seed(pulse, readers=3, week=STRAY)
    weekly.build_week(pulse, STRAY)


def _next_week(week: str) -> str:
    from datetime import timedelta

    return week_key(week_monday(week) + timedelta(days=7))


@pytest.fixture
def sent_this_week(pulse: Pulse) -> Iterator[str]:
    """What `pulse demo` leaves: the next scheduled week's issue already sent."""
    schedule = WeeklySchedule.parse(pulse.settings.schedule, pulse.settings.timezone)
    week = schedule.week_at(schedule.next_send(utcnow()))
    seed(pulse, readers=3, week=week)
    weekly.build_week(pulse, week)
    weekly.send_week(pulse, week)
    yield week


def test_discard_on_the_cli_records_who_and_why_and_frees_the_content(
    pulse: Pulse, cli: Cli
) -> None:
    _held_stray(pulse)
    with pulse.db.sessions() as session:
        issue_id = session.scalars(select(Issue.id)).one()
        assert session.scalars(select(Snippet).where(Snippet.issue_id == issue_id)).all()
    no_reason = cli("issue", "discard", "--week", STRAY, "--editor", "ed", "--reason", " ")
    assert no_reason.exit_code == 1 and "--reason" in no_reason.stderr
    done = cli(
        "issue", "discard", "--week", STRAY, "--editor", "ed@example.com",
        "--reason", "built by mistake",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "discarded by ed@example.com: built by mistake" in done.stdout
    issue = _issue(pulse, STRAY)
    assert issue is not None and issue.status is IssueStatus.SKIPPED
    assert issue.discarded_by == "ed@example.com" and issue.status_reason == "built by mistake"
    assert issue.discarded_at is not None
    with pulse.db.sessions() as session:
        assert not session.scalars(select(Snippet).where(Snippet.issue_id == issue_id)).all()
        assert not session.scalars(select(JobListing).where(JobListing.issue_id == issue_id)).all()
        assert session.scalars(select(Snippet).where(Snippet.status == SnippetStatus.READY)).all()
    status = cli("issue", "status", "--week", STRAY)
    assert "discarded by ed@example.com" in status.stdout and "built by mistake" in status.stdout
    # Never sent, and cannot be discarded (or sent) twice.
    assert cli("issue", "send", "--week", STRAY, "--yes").exit_code == 1
    again = cli("issue", "skip", "--week", STRAY, "--editor", "ed", "--reason", "x")
    assert again.exit_code == 1 and "skipped and cannot be discarded" in again.stderr


def test_a_sent_issue_cannot_be_discarded(pulse: Pulse, cli: Cli, sent_this_week: str) -> None:
    refused = cli("issue", "discard", "--week", sent_this_week, "--editor", "e", "--reason", "r")
    assert refused.exit_code == 1 and "is sent and cannot be discarded" in refused.stderr


def test_discard_on_the_desk_is_confirmed_and_recorded(pulse: Pulse, desk: Desk) -> None:
    _held_stray(pulse)
    client = desk.editor()
    csrf = csrf_of(client, f"/admin/issue?week={STRAY}")
    confirm = client.get(f"/admin/issue/confirm/discard?week={STRAY}")
    assert confirm.status_code == 200 and 'name="reason"' in confirm.text
    yes = {"csrf_token": csrf, "week": STRAY, "confirm": "yes"}
    assert client.post("/admin/issue/discard", data=yes).status_code == 400  # no reason
    done = client.post("/admin/issue/discard", data={**yes, "reason": "stray week"})
    assert done.status_code == 200 and "discarded" in done.text
    issue = _issue(pulse, STRAY)
    assert issue is not None and issue.status is IssueStatus.SKIPPED
    assert issue.discarded_by == "ed@example.com" and issue.status_reason == "stray week"
    page = client.get(f"/admin?week={STRAY}").text
    assert "discarded by ed@example.com" in page
    assert 'data-action="' not in page  # nothing left to decide


def test_after_a_send_the_desk_and_status_prepare_the_following_week(
    pulse: Pulse, desk: Desk, cli: Cli, sent_this_week: str
) -> None:
    following = _next_week(sent_this_week)
    with pulse.db.sessions() as session:
        assert next_unsent_week(session, pulse.schedule, utcnow()) == following
    page = desk.editor().get("/admin").text
    assert f'<span id="desk-week">{following}</span>' in page
    assert "Next issue" in page and "not built yet" in page
    assert f'<option value="{sent_this_week}">' in page
    sent_page = desk.editor().get(f"/admin?week={sent_this_week}").text
    assert "Rebuild" not in sent_page and 'data-action="' not in sent_page
    assert 'id="readiness-verdict" class="ok">sent' in sent_page
    preview = desk.editor().get(f"/admin/issue?week={sent_this_week}").text
    assert "Rebuild" not in preview and "nothing more to decide" in preview
    status = cli("status")
    assert f"{following} at" in status.stdout and "not built yet" in status.stdout
    assert "pulse issue build" in status.stdout


def test_only_the_actions_a_state_allows() -> None:
    built = Issue(status=IssueStatus.BUILT)
    assert "send" in allowed_actions(built) and "discard" in allowed_actions(built)
    assert "send" not in allowed_actions(Issue(status=IssueStatus.HELD))
    for done in (IssueStatus.SENT, IssueStatus.SKIPPED, IssueStatus.SENDING, IssueStatus.PAUSED):
        assert allowed_actions(Issue(status=done)) == ()


def test_send_now_on_a_week_not_yet_due_says_what_the_schedule_would_do(
    pulse: Pulse, desk: Desk, sent_this_week: str
) -> None:
    following = _next_week(sent_this_week)
    page = desk.editor().get(f"/admin/issue/confirm/send?week={following}").text
    assert 'id="early-send"' in page and f"{following} is not due yet" in page
    past = desk.editor().get(f"/admin/issue/confirm/send?week={STRAY}").text
    assert 'id="early-send"' not in past


def test_approve_on_the_desk_and_on_the_cli_leave_the_same_state(
    pulse: Pulse, cli: Cli, desk: Desk
) -> None:
    """Approve is the go-ahead for the scheduled send on both: neither sends."""
    seed(pulse, readers=3, week=STRAY)
    client = desk.editor()
    csrf = csrf_of(client, f"/admin/issue?week={STRAY}")
    yes = {"csrf_token": csrf, "week": STRAY, "confirm": "yes"}
    assert client.post("/admin/issue/approve", data=yes).status_code == 200
    on_desk = _issue(pulse, STRAY)
    assert on_desk is not None and on_desk.approved_by == "ed@example.com"
    assert client.post("/admin/issue/hold", data={**yes, "reason": "legal"}).status_code == 200
    assert cli("issue", "approve", "--week", STRAY, "--editor", "ed@example.com").exit_code == 0
    on_cli = _issue(pulse, STRAY)
    fields = ("status", "approved_by", "status_decision", "send_requested_at")
    assert [getattr(on_cli, f) for f in fields] == [getattr(on_desk, f) for f in fields]
    assert not list(pulse.settings.outbox_dir.glob("*/*.eml"))
