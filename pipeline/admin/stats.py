"""Figures the desk shows: delivery counts per issue and weekly subscriber growth."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.analytics.summary import event_counts
from pipeline.delivery.models import Delivery, DeliveryStatus, IssueSummary
from pipeline.events.models import EventType, ProviderEvent
from pipeline.issues.models import Issue
from pipeline.weeks import week_key, week_monday
from subscribers.history import SubscriberChange
from subscribers.models import Subscriber, SubscriberStatus

EVENT_COUNTS = (EventType.BOUNCED, EventType.COMPLAINED, EventType.UNSUBSCRIBED)


@dataclass
class IssueCounts:
    """One issue and what happened to its messages."""

    week_key: str
    number: int
    subject: str
    status: str
    counts: Counter[str] = field(default_factory=Counter)


def recent_issues(session: Session, limit: int = 8) -> list[IssueCounts]:
    """The last issues, newest first, with sent/failed and bounce/complaint/unsubscribe counts."""
    issues = session.scalars(select(Issue).order_by(Issue.number.desc()).limit(limit)).all()
    by_id = {
        issue.id: IssueCounts(issue.week_key, issue.number, issue.subject, issue.status.value)
        for issue in issues
    }
    for issue_id, counts in _counts(session, list(by_id)).items():
        by_id[issue_id].counts = counts
    return [by_id[issue.id] for issue in issues]


def issue_counts(session: Session, issue_id: int) -> Counter[str]:
    """Sent/failed and bounce/complaint/unsubscribe counts of one issue."""
    return _counts(session, [issue_id]).get(issue_id, Counter())


def _counts(session: Session, issue_ids: list[int]) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {issue_id: Counter() for issue_id in issue_ids}
    # A pruned issue's rows are gone; its counts were kept (pipeline.analytics.summary).
    pruned = session.scalars(select(IssueSummary).where(IssueSummary.issue_id.in_(issue_ids)))
    for summary in pruned:
        wanted = {"sent", "failed", *EVENT_COUNTS}
        kept = event_counts(summary)
        counts[summary.issue_id] = Counter({k: n for k, n in kept.items() if k in wanted})
        issue_ids = [i for i in issue_ids if i != summary.issue_id]
    if not issue_ids:
        return counts
    deliveries = session.execute(
        select(Delivery.issue_id, Delivery.status, func.count())
        .where(Delivery.issue_id.in_(issue_ids))
        .where(Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.FAILED)))
        .group_by(Delivery.issue_id, Delivery.status)
    )
    for issue_id, status, count in deliveries:
        counts[issue_id][status.value] += count
    # Several events of one kind for one message (retried webhooks) count once.
    events = session.execute(
        select(
            Delivery.issue_id, ProviderEvent.type, func.count(ProviderEvent.delivery_id.distinct())
        )
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(Delivery.issue_id.in_(issue_ids))
        .where(ProviderEvent.type.in_(EVENT_COUNTS))
        .group_by(Delivery.issue_id, ProviderEvent.type)
    )
    for issue_id, kind, count in events:
        counts[issue_id][kind.value] += count
    return counts


@dataclass(frozen=True)
class WeekGrowth:
    week: str
    signups: int
    confirmations: int
    unsubscribes: int


LEFT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def weekly_growth(session: Session, now: datetime, weeks: int = 12) -> list[WeekGrowth]:
    """Signups, confirmations and departures per ISO week, oldest first, ``weeks`` long."""
    keys = [week_key((now - timedelta(weeks=back)).date()) for back in range(weeks - 1, -1, -1)]
    start = datetime.combine(week_monday(keys[0]), datetime.min.time(), tzinfo=now.tzinfo)
    signups: Counter[str] = Counter(
        week_key(at.date())
        for at in session.scalars(
            select(Subscriber.created_at).where(Subscriber.created_at >= start)
        )
    )
    changes = session.execute(
        select(SubscriberChange.at, SubscriberChange.to_status).where(SubscriberChange.at >= start)
    )
    confirmations: Counter[str] = Counter()
    departures: Counter[str] = Counter()
    for at, to_status in changes:
        if to_status is SubscriberStatus.ACTIVE:
            confirmations[week_key(at.date())] += 1
        elif to_status in LEFT:
            departures[week_key(at.date())] += 1
    return [WeekGrowth(k, signups[k], confirmations[k], departures[k]) for k in keys]


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    counts = {status.value: 0 for status in SubscriberStatus}
    for status, count in rows:
        counts[status.value] = count
    return counts
