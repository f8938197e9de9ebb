"""Holding, approving and skipping an issue: the editor-facing state changes.

All three apply only before the send starts (an issue that is built or held).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.errors import IssueError
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler import milestones
from pipeline.scheduler.models import IssueMilestone
from subscribers.database import utcnow

UNSENT = (IssueStatus.BUILT, IssueStatus.HELD)


def _move(session: Session, week: str, to: IssueStatus, reason: str | None, verb: str) -> Issue:
    issue = get_issue(session, week)
    if issue.status not in UNSENT:
        raise IssueError(f"issue {week} is {issue.status.value} and cannot be {verb}")
    issue.status = to
    issue.pause_reason = reason
    session.flush()
    return issue


def hold_issue(session: Session, week: str, reason: str) -> Issue:
    """Keep a built issue from going out until it is ready or approved."""
    return _move(session, week, IssueStatus.HELD, reason, "held")


def approve_issue(session: Session, week: str, editor: str) -> Issue:
    """Record an editor's go-ahead; a held issue becomes sendable again."""
    issue = _move(session, week, IssueStatus.BUILT, None, "approved")
    if not milestones.has(session, week, milestones.APPROVED):
        session.add(
            IssueMilestone(week_key=week, kind=milestones.APPROVED, at=utcnow(), detail=editor)
        )
        session.flush()
    return issue


def is_approved(session: Session, week: str) -> bool:
    return milestones.has(session, week, milestones.APPROVED)


def skip_issue(session: Session, week: str, reason: str) -> Issue:
    """Give up on the week: the issue is never sent."""
    return _move(session, week, IssueStatus.SKIPPED, reason, "skipped")
