"""Bounded tables: deleting the per-recipient rows of old, finished issues, in chunks.

A million readers a week is 52 million delivery rows a year, and as many provider events.
What may go, and what must stay:

- **Goes**, for an issue that finished sending before the cutoff: its deliveries, the
  provider events linked to them, its engagements (clicks, opens) and retry marks; and
  provider events linked to no delivery that arrived before the cutoff.
- **Stays**: the issue itself and a summary of its report's figures, written before any
  row goes (:mod:`pipeline.analytics.summary`), so the report and the desk read the same
  afterwards; every suppression (forever); subscribers and their history; anything of an
  issue not finished — exactly-once needs every row of a send that may still continue,
  so only ``sent`` issues with no pending or leased row qualify, and a pruned issue can
  never have its deliveries created again.

Rows go in chunks, each its own short transaction, so a prune of millions never holds a
giant transaction or long locks, and one that stops half-way (crash, Ctrl-C) is finished
by the next run: the summary is kept, the rest is deleted then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.analytics.models import DeliveryRetry, Engagement
from pipeline.analytics.summary import summarise
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import ProviderEvent
from pipeline.issues.models import Issue, IssueStatus
from pulse_core.database import transaction

# Below this, pruning would reach rows a late bounce, the soft-bounce window or a
# reader's "what did I get last month" still need.
MINIMUM_AGE = timedelta(days=30)
CHUNK = 5_000  # delivery rows per transaction
_UNITS = {"d": 1, "w": 7}
_AGE = re.compile(r"(\d{1,5})([dw])")


def parse_age(text: str) -> timedelta:
    """``180d`` or ``26w`` as a timedelta; ValueError (a sentence) for anything else."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not an age such as 180d or 26w")
    age = timedelta(days=int(match.group(1)) * _UNITS[match.group(2)])
    if age < MINIMUM_AGE:
        raise ValueError(
            f"{text} is too recent: rows younger than {MINIMUM_AGE.days} days are still needed"
        )
    return age


@dataclass
class PruneReport:
    """What a prune deleted (or, on a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    issues: list[str] = field(default_factory=list)
    deliveries: int = 0
    events: int = 0
    engagements: int = 0
    unlinked_events: int = 0


def prunable_issues(session: Session, cutoff: datetime) -> list[Issue]:
    """Sent before ``cutoff``, nothing left to send, and rows still there to delete."""
    unfinished = exists().where(
        Delivery.issue_id == Issue.id,
        Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
    )
    has_rows = exists().where(Delivery.issue_id == Issue.id)
    has_clicks = exists().where(Engagement.issue_id == Issue.id)
    query = (
        select(Issue)
        .where(Issue.status == IssueStatus.SENT, Issue.send_started_at < cutoff)
        .where(~unfinished, has_rows | has_clicks)
        .order_by(Issue.send_started_at)
    )
    return list(session.scalars(query))


def prune(
    sessions: sessionmaker[Session],
    cutoff: datetime,
    now: datetime,
    *,
    dry_run: bool = False,
    chunk: int = CHUNK,
    progress: Callable[[str], None] | None = None,
) -> PruneReport:
    """Delete what the module docstring says may go, older than ``cutoff``."""
    report = PruneReport(cutoff=cutoff, dry_run=dry_run)
    with sessions() as session:
        issues = [(issue.id, issue.week_key) for issue in prunable_issues(session, cutoff)]
    for issue_id, week in issues:
        report.issues.append(week)
        if dry_run:
            with sessions() as session:
                _count_issue(session, issue_id, report)
            continue
        with transaction(sessions) as session:
            issue = session.get(Issue, issue_id)
            assert issue is not None
            summarise(session, issue, now)
        _delete_issue_rows(sessions, issue_id, chunk, report)
        if progress is not None:
            progress(f"pruned {week}")
    _delete_unlinked_events(sessions, cutoff, chunk, report)
    return report


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _count_issue(session: Session, issue_id: int, report: PruneReport) -> None:
    ids = select(Delivery.id).where(Delivery.issue_id == issue_id)
    report.deliveries += _count(session, ids)
    report.events += _count(
        session, select(ProviderEvent.id).where(ProviderEvent.delivery_id.in_(ids))
    )
    report.engagements += _count(
        session, select(Engagement.id).where(Engagement.issue_id == issue_id)
    )


def _delete_issue_rows(
    sessions: sessionmaker[Session], issue_id: int, chunk: int, report: PruneReport
) -> None:
    while True:
        with transaction(sessions) as session:
            clicks = select(Engagement.id).where(Engagement.issue_id == issue_id).limit(chunk)
            ids = list(session.scalars(clicks))
            if ids:
                session.execute(delete(Engagement).where(Engagement.id.in_(ids)))
                report.engagements += len(ids)
                continue
            rows = select(Delivery.id).where(Delivery.issue_id == issue_id)
            ids = list(session.scalars(rows.order_by(Delivery.id).limit(chunk)))
            if not ids:
                return
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                events = delete(ProviderEvent).where(ProviderEvent.delivery_id.in_(part))
                report.events += _rowcount(session.execute(events))
                session.execute(delete(DeliveryRetry).where(DeliveryRetry.delivery_id.in_(part)))
                session.execute(delete(Delivery).where(Delivery.id.in_(part)))
            report.deliveries += len(ids)


def _delete_unlinked_events(
    sessions: sessionmaker[Session], cutoff: datetime, chunk: int, report: PruneReport
) -> None:
    """Events that named no delivery of ours: kept as long as the issues' rows, no longer."""
    old = select(ProviderEvent.id).where(
        ProviderEvent.received_at < cutoff, ProviderEvent.delivery_id.is_(None)
    )
    if report.dry_run:
        with sessions() as session:
            report.unlinked_events = _count(session, old)
        return
    while True:
        with transaction(sessions) as session:
            ids = list(session.scalars(old.order_by(ProviderEvent.id).limit(chunk)))
            if not ids:
                return
            for start in range(0, len(ids), 500):
                session.execute(
                    delete(ProviderEvent).where(ProviderEvent.id.in_(ids[start : start + 500]))
                )
            report.unlinked_events += len(ids)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
