"""The "best" past issues the start-here step points at.

Best means most read: the sent issues whose readers clicked most, as a share of the
messages delivered, counting people, never machines (scanners, prefetchers: the analytics'
``machine`` flag). Issues nobody clicked yet, or an archive without click data, fall back
to the newest. An editor who wants particular issues edits the template instead.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.analytics.models import Engagement, EngagementKind
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.welcome.templates import ArchiveIssue

BEST_COUNT = 3


def best_issues(session: Session, base_url: str, count: int = BEST_COUNT) -> list[ArchiveIssue]:
    """Up to ``count`` sent issues, the most clicked first, then the newest."""
    readers = (
        select(Engagement.issue_id, func.count(func.distinct(Engagement.subscriber_id)).label("n"))
        .where(Engagement.kind == EngagementKind.CLICK, Engagement.machine.is_(False))
        .group_by(Engagement.issue_id)
        .subquery()
    )
    delivered = (
        select(Delivery.issue_id, func.count().label("n"))
        .where(Delivery.status == DeliveryStatus.SENT)
        .group_by(Delivery.issue_id)
        .subquery()
    )
    rate = func.coalesce(readers.c.n, 0) * 1.0 / func.coalesce(delivered.c.n, 1)
    rows = session.execute(
        select(Issue.number, Issue.week_key, Issue.subject)
        .outerjoin(readers, readers.c.issue_id == Issue.id)
        .outerjoin(delivered, delivered.c.issue_id == Issue.id)
        .where(Issue.status == IssueStatus.SENT)
        .order_by(rate.desc(), Issue.number.desc())
        .limit(count)
    ).all()
    return [
        ArchiveIssue(number, week, subject, f"{base_url}/issues/{week}")
        for number, week, subject in rows
    ]


def latest_issue(session: Session, base_url: str) -> ArchiveIssue | None:
    row = session.execute(
        select(Issue.number, Issue.week_key, Issue.subject)
        .where(Issue.status == IssueStatus.SENT)
        .order_by(Issue.number.desc())
        .limit(1)
    ).first()
    return ArchiveIssue(row[0], row[1], row[2], f"{base_url}/issues/{row[1]}") if row else None
