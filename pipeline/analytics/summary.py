"""An issue's figures kept past pruning: the report, written down before the rows go.

``pulse db prune`` deletes a finished issue's deliveries, provider events and engagements
once they are old; just before, :func:`summarise` stores every figure the issue report
shows (and the desk's per-issue counts), and :func:`pipeline.analytics.report.issue_report`
reads them back from then on, so the report of a pruned issue is the one it had.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.analytics.report import GroupFigures, IssueReport, LinkFigures, issue_report
from pipeline.analytics.segment_report import SegmentFigures
from pipeline.delivery.models import Delivery, IssueSummary
from pipeline.events.models import ProviderEvent
from pipeline.issues.links import links_from_json
from pipeline.issues.models import Issue

_COUNTED = (
    "recipients",
    "sent",
    "failed",
    "skipped",
    "bounced_hard",
    "bounced_soft",
    "complained",
    "unsubscribed",
    "human_clickers",
    "human_clicks",
    "machine_clicks",
    "human_opens",
    "machine_opens",
)


def summary_of(session: Session, issue_id: int) -> IssueSummary | None:
    """The issue's summary, when it was pruned."""
    return session.get(IssueSummary, issue_id)


def summarise(session: Session, issue: Issue, now: datetime) -> IssueSummary:
    """Store the issue's figures (once: a second call keeps the first, rows may be gone)."""
    existing = summary_of(session, issue.id)
    if existing is not None:
        return existing
    report = issue_report(session, issue, now)
    figures: dict[str, Any] = {name: getattr(report, name) for name in _COUNTED}
    figures |= {
        "links": [
            [f.link.position, f.human_clicks, f.machine_clicks, f.human_clickers]
            for f in report.links
        ],
        "sections": [[g.name, g.human_clicks, g.machine_clicks] for g in report.sections],
        "items": [[g.name, g.human_clicks, g.machine_clicks] for g in report.items],
        "timeline": [list(point) for point in report.timeline],
        "machine_reasons": report.machine_reasons,
        "event_counts": dict(_event_counts(session, issue.id)),
        # The split by profile field, as it stood (the readers' profiles may change later).
        "segments": {
            by: [[r.value, r.sent, r.openers, r.clickers, r.unsubscribed] for r in rows]
            for by, rows in report.segments.items()
        },
    }
    summary = IssueSummary(issue_id=issue.id, pruned_at=now, figures=json.dumps(figures))
    session.add(summary)
    session.flush()
    return summary


def _event_counts(session: Session, issue_id: int) -> Counter[str]:
    """Messages with each kind of provider event (a retried webhook counts once)."""
    rows = session.execute(
        select(ProviderEvent.type, func.count(ProviderEvent.delivery_id.distinct()))
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(Delivery.issue_id == issue_id)
        .group_by(ProviderEvent.type)
    )
    return Counter({kind.value: int(count) for kind, count in rows})


def event_counts(summary: IssueSummary) -> Counter[str]:
    """Delivery and event counts for the desk, as they were when the issue was pruned."""
    figures = json.loads(summary.figures)
    counts: Counter[str] = Counter(figures["event_counts"])
    counts["sent"], counts["failed"] = figures["sent"], figures["failed"]
    return +counts


def report_from_summary(issue: Issue, summary: IssueSummary) -> IssueReport:
    """The issue report as it was when the issue was pruned."""
    figures = json.loads(summary.figures)
    report = IssueReport(
        week_key=issue.week_key,
        subject=issue.subject,
        status=issue.status.value,
        send_started_at=issue.send_started_at,
    )
    for name in _COUNTED:
        setattr(report, name, figures[name])
    links = {link.position: link for link in links_from_json(issue.links_json)}
    report.links = [
        LinkFigures(links[position], human, machine, clickers)
        for position, human, machine, clickers in figures["links"]
    ]
    report.sections = [GroupFigures(*group) for group in figures["sections"]]
    report.items = [GroupFigures(*group) for group in figures["items"]]
    report.timeline = [(h, hc, mc) for h, hc, mc in figures["timeline"]]
    report.machine_reasons = figures["machine_reasons"]
    report.segments = {
        by: [SegmentFigures(*row) for row in rows]
        for by, rows in figures.get("segments", {}).items()
    }
    return report
