"""Holding, approving and skipping an issue: the editor-facing state changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.errors import IssueError
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler import milestones
from pipeline.scheduler.models import IssueMilestone
from subscribers.database import utcnow


def hold_issue(session: Session, week: str, reason: str) -> Issue:
    """Keep a built issue from going out until it is ready or approved."""
    issue = get_issue(session, week)
    if issue.status not in (IssueStatus.BUILT, IssueStatus.HELD):
        raise IssueError(f"issue {week} is {issue.status.value} and cannot be held")
    issue.status = IssueStatus.HELD
    issue.pause_reason = reason
    session.flush()
    return issue


def approve_issue(session: Session, week: str, editor: str) -> Issue:
    """Record an editor's go-ahead; a held issue becomes sendable again."""
    issue = get_issue(session, week)
    if issue.status not in (IssueStatus.BUILT, IssueStatus.HELD):
        raise IssueError(f"issue {week} is {issue.status.value} and cannot be approved")
    if not milestones.has(session, week, milestones.APPROVED):
        session.add(
            IssueMilestone(week_key=week, kind=milestones.APPROVED, at=utcnow(), detail=editor)
        )
    issue.status = IssueStatus.BUILT
    issue.pause_reason = None
    session.flush()
    return issue


def is_approved(session: Session, week: str) -> bool:
    return milestones.has(session, week, milestones.APPROVED)


def skip_issue(session: Session, week: str, reason: str) -> Issue:
    """Give up on the week: the issue is never sent."""
    issue = get_issue(session, week)
    if issue.status not in (IssueStatus.BUILT, IssueStatus.HELD):
        raise IssueError(f"issue {week} is {issue.status.value} and cannot be skipped")
    issue.status = IssueStatus.SKIPPED
    issue.pause_reason = reason
    session.flush()
    return issue
