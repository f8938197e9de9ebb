"""An issue's editorial decisions: hold, approve, discard (skip), and send now.

They apply only before a send starts (an issue that is built or held). "Send now" goes
through :func:`pipeline.weekly.send_week`, the same path as the scheduler: the issue's send
lock and the leased delivery rows mean a manual send racing the scheduler (or a second
click) never mails anyone twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.errors import IssueError, PulseError, ValidationError
from pipeline.issues.build import get_issue, release_content
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler.plan import WeeklySchedule
from pipeline.weeks import week_key, week_monday
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow

log = logging.getLogger(__name__)

UNSENT = (IssueStatus.BUILT, IssueStatus.HELD)
MAX_REASON = 500


def _unsent(session: Session, week: str, verb: str) -> Issue:
    issue = get_issue(session, week)
    if issue.status not in UNSENT:
        raise IssueError(f"issue {week} is {issue.status.value} and cannot be {verb}")
    return issue


def hold_issue(session: Session, week: str, reason: str) -> Issue:
    """Keep the issue from being sent (by the scheduler or anyone) until it is approved."""
    why = reason.strip()
    if not why:
        raise ValidationError("reason", "say why the issue is held")
    if len(why) > MAX_REASON:
        raise ValidationError("reason", f"must be at most {MAX_REASON} characters")
    issue = _unsent(session, week, "held")
    issue.status = IssueStatus.HELD
    issue.pause_reason = why
    issue.approved_at = None
    issue.approved_by = None
    session.flush()
    return issue


def approve_issue(session: Session, week: str, editor: str) -> Issue:
    """Record ``editor``'s go-ahead; a held issue becomes sendable again."""
    issue = _unsent(session, week, "approved")
    issue.status = IssueStatus.BUILT
    issue.pause_reason = None
    issue.approved_at = utcnow()
    issue.approved_by = editor
    session.flush()
    return issue


def is_approved(session: Session, week: str) -> bool:
    return get_issue(session, week).approved_at is not None


def skip_issue(session: Session, week: str, reason: str, editor: str = "scheduler") -> Issue:
    """Give up on the week: the issue is never sent (the scheduler at a deadline)."""
    return discard_issue(session, week, editor, reason)


def discard_issue(session: Session, week: str, editor: str, reason: str) -> Issue:
    """Throw away a held or stray issue, recording who and why; it is never sent.

    Its snippets and job listings go back to the queue, so the next issue can use them.
    """
    why = reason.strip()
    if not why:
        raise ValidationError("reason", "say why the issue is discarded (--reason)")
    if len(why) > MAX_REASON:
        raise ValidationError("reason", f"must be at most {MAX_REASON} characters")
    who = editor.strip()
    if not who:
        raise ValidationError("editor", "say who discards the issue (--editor)")
    issue = _unsent(session, week, "discarded")
    release_content(session, issue.id)
    issue.status = IssueStatus.SKIPPED
    issue.pause_reason = why
    issue.approved_at = None
    issue.approved_by = None
    issue.discarded_at = utcnow()
    issue.discarded_by = who[:320]
    session.flush()
    return issue


# What an editor may do with a week's issue in each state (the desk shows only these).
ACTIONS_BY_STATE: dict[IssueStatus | None, tuple[str, ...]] = {
    None: ("build", "approve", "hold", "send"),  # each builds from the queue first
    IssueStatus.BUILT: ("rebuild", "approve", "hold", "send", "discard"),
    IssueStatus.HELD: ("rebuild", "approve", "discard"),
    IssueStatus.SENDING: (),
    IssueStatus.PAUSED: (),
    IssueStatus.SENT: (),
    IssueStatus.SKIPPED: (),
}


def allowed_actions(issue: Issue | None) -> tuple[str, ...]:
    """The decisions ``issue``'s state allows; an approved issue needs no second approval."""
    actions = ACTIONS_BY_STATE[None if issue is None else issue.status]
    if issue is not None and issue.approved_at is not None:
        actions = tuple(a for a in actions if a != "approve")
    return actions


DONE = (IssueStatus.SENT, IssueStatus.SKIPPED)


def next_unsent_week(session: Session, settings: Settings, now: datetime) -> str:
    """The week editors prepare next: the next scheduled send's week, past any already done.

    After ``pulse demo`` (or a send by hand) this week's issue is sent before its send
    time; the week to prepare is then the following one.
    """
    schedule = WeeklySchedule.parse(settings.schedule, settings.timezone)
    due = schedule.next_send(now)
    done = set(session.scalars(select(Issue.week_key).where(Issue.status.in_(DONE))))
    week = schedule.week_at(due)
    while week in done:
        due += timedelta(days=7)
        week = schedule.week_at(due)
    return week


def send_time_of(settings: Settings, week: str) -> datetime:
    """When ``week`` is due, in the newsletter's time zone."""
    schedule = WeeklySchedule.parse(settings.schedule, settings.timezone)
    return schedule.send_time(week).astimezone(schedule.zone)


def desk_weeks(session: Session, upcoming: str, ahead: int = 4) -> list[str]:
    """Weeks worth choosing on the desk: every issue's week and the next few, in week order."""
    weeks = set(session.scalars(select(Issue.week_key)))
    week = upcoming
    for _ in range(ahead + 1):
        weeks.add(week)
        week = week_key(week_monday(week) + timedelta(days=7))
    return sorted(weeks)


def check_sendable_now(session: Session, week: str) -> Issue:
    """The issue, if a manual send may start (or continue) it now."""
    issue = get_issue(session, week)
    if issue.status is IssueStatus.HELD:
        raise IssueError(f"issue {week} is held ({issue.pause_reason}); approve it first")
    if issue.status in (IssueStatus.SENT, IssueStatus.SKIPPED):
        raise IssueError(f"issue {week} is {issue.status.value}; it will not be sent again")
    return issue


def start_send_now(pulse: Pulse, week: str) -> threading.Thread:
    """Check the issue may be sent, then send it in a background thread and return that."""
    with transaction(pulse.db.sessions) as session:
        check_sendable_now(session, week)
    thread = threading.Thread(
        target=_send_in_background, args=(pulse, week), name=f"send-{week}", daemon=True
    )
    thread.start()
    return thread


def _send_in_background(pulse: Pulse, week: str) -> None:
    # Imported here: pipeline.weekly imports the wiring and the whole send path.
    from pipeline.weekly import send_week

    try:
        report = send_week(pulse, week)
        log.info("send of %s: %s sent, finished=%s", week, report.sent, report.finished)
    except PulseError as err:
        # The issue stays sending/paused; the scheduler or `pulse issue resume` continues it.
        log.error("send of %s stopped: %s", week, err)


def next_send_time(settings: Settings, now: datetime) -> datetime:
    """The next scheduled send (PULSE_SCHEDULE), in the newsletter's time zone."""
    schedule = WeeklySchedule.parse(settings.schedule, settings.timezone)
    return schedule.next_send(now).astimezone(schedule.zone)


def early_send_notice(settings: Settings, week: str, now: datetime) -> str | None:
    """What the schedule would do with ``week`` if it is not yet due; None once it is due.

    ``pulse issue send --week`` on a future week bypasses the clock (its readiness check
    and holds), so the command says what the clock would have done and asks first.
    """
    schedule = WeeklySchedule.parse(settings.schedule, settings.timezone)
    due = schedule.send_time(week)
    if due <= now:
        return None
    local = due.astimezone(schedule.zone)
    return (
        f"{week} is not due yet: the scheduler would build and check it at "
        f"{local:%a %d %b %Y %H:%M %Z} and send it then only if it is ready "
        f"(or approved), holding it otherwise"
    )
