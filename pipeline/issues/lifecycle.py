"""An issue's editorial decisions: approve, hold, and send now.

"Send now" goes through :func:`pipeline.weekly.send_week`, the same path as the scheduler:
delivery rows are unique per (issue, subscriber) and batches are leased, so a manual send
racing the scheduler (or a second click) never mails anyone twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pipeline.config import WEEKDAYS, Settings
from pipeline.errors import IssueError, PulseError, ValidationError
from pipeline.issues.build import FROZEN, get_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from subscribers.database import transaction, utcnow

log = logging.getLogger(__name__)


def approve_issue(session: Session, week: str, editor: str) -> Issue:
    """Record ``editor``'s approval; a held issue is released back to the schedule."""
    issue = get_issue(session, week)
    if issue.status in FROZEN:
        raise IssueError(f"issue {week} is {issue.status.value}; there is nothing to approve")
    if issue.status is IssueStatus.HELD:
        issue.status = IssueStatus.BUILT
        issue.pause_reason = None
    issue.approved_at = utcnow()
    issue.approved_by = editor
    session.flush()
    return issue


def hold_issue(session: Session, week: str, reason: str) -> Issue:
    """Keep the issue from being sent (by the scheduler or anyone) until it is approved."""
    why = reason.strip()
    if not why:
        raise ValidationError("reason", "say why the issue is held")
    if len(why) > 500:
        raise ValidationError("reason", "must be at most 500 characters")
    issue = get_issue(session, week)
    if issue.status in FROZEN:
        raise IssueError(f"issue {week} is {issue.status.value} and can no longer be held")
    issue.status = IssueStatus.HELD
    issue.pause_reason = why
    issue.approved_at = None
    issue.approved_by = None
    session.flush()
    return issue


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
    """The next scheduled send (PULSE_SCHEDULE) in the newsletter's time zone."""
    day, clock = settings.schedule.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = now.astimezone(settings.zone)
    days_ahead = (WEEKDAYS.index(day) - local.weekday()) % 7
    candidate = (local + timedelta(days=days_ahead)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    if candidate <= local:
        candidate += timedelta(days=7)
    return candidate
