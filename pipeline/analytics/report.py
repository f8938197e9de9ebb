"""The issue report: what happened to an issue and what readers did with it.

One use case, one module: the CLI (``pulse issue report``), the desk page and the editors'
weekly report all call :func:`issue_report`. Human clicks are what counts; machine clicks
(see :mod:`pipeline.analytics.classify`) are shown apart, never added in.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.analytics.models import Engagement, EngagementKind
from pipeline.analytics.provider_events import provider_engagements
from pipeline.analytics.segment_report import SegmentFigures, split_by_segment, unsubscribe_window
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.issues.links import TrackedLink, links_from_json
from pipeline.issues.models import Issue
from subscribers.history import SubscriberChange
from subscribers.models import SubscriberStatus

# Clicks over time are counted in these buckets after the send started, then per day.
TIMELINE_HOURS = (1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 144, 168)


@dataclass
class LinkFigures:
    """One link's clicks, humans and machines apart."""

    link: TrackedLink
    human_clicks: int = 0
    machine_clicks: int = 0
    human_clickers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.link.key,
            "position": self.link.position,
            "section": self.link.section,
            "item": self.link.item,
            "label": self.link.label,
            "url": self.link.url,
            "human_clicks": self.human_clicks,
            "machine_clicks": self.machine_clicks,
            "unique_human_clickers": self.human_clickers,
        }


@dataclass
class GroupFigures:
    """Clicks summed over the links of a section or of one job listing / snippet."""

    name: str
    human_clicks: int = 0
    machine_clicks: int = 0


@dataclass
class IssueReport:
    week_key: str
    subject: str
    status: str
    send_started_at: datetime | None
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    complained: int = 0
    unsubscribed: int = 0
    human_clickers: int = 0
    human_clicks: int = 0
    machine_clicks: int = 0
    human_opens: int = 0
    machine_opens: int = 0
    links: list[LinkFigures] = field(default_factory=list)
    sections: list[GroupFigures] = field(default_factory=list)
    items: list[GroupFigures] = field(default_factory=list)
    # (hours since the send started, human clicks, machine clicks) per bucket, cumulative.
    timeline: list[tuple[int, int, int]] = field(default_factory=list)
    machine_reasons: dict[str, int] = field(default_factory=dict)
    # The same figures per level and per region (see analytics.segment_report).
    segments: dict[str, list[SegmentFigures]] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        """Accepted by the provider and not bounced back."""
        return max(0, self.sent - self.bounced_hard - self.bounced_soft)

    @property
    def click_through_rate(self) -> float:
        """Unique human clickers over delivered messages."""
        return self.human_clickers / self.delivered if self.delivered else 0.0

    def top_links(self, count: int = 5) -> list[LinkFigures]:
        ranked = sorted(self.links, key=lambda f: (-f.human_clicks, f.link.position))
        return [f for f in ranked if f.human_clicks > 0][:count]

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week_key,
            "subject": self.subject,
            "status": self.status,
            "send_started_at": self.send_started_at.isoformat() if self.send_started_at else None,
            "recipients": self.recipients,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "skipped": self.skipped,
            "bounced": {"hard": self.bounced_hard, "soft": self.bounced_soft},
            "complained": self.complained,
            "unsubscribed_after": self.unsubscribed,
            "unique_human_clickers": self.human_clickers,
            "click_through_rate": round(self.click_through_rate, 4),
            "human_clicks": self.human_clicks,
            "machine_clicks": self.machine_clicks,
            "human_opens": self.human_opens,
            "machine_opens": self.machine_opens,
            "machine_reasons": self.machine_reasons,
            "links": [f.as_dict() for f in self.links],
            "sections": [vars(g) for g in self.sections],
            "items": [vars(g) for g in self.items],
            "timeline": [
                {"hours": h, "human_clicks": hc, "machine_clicks": mc}
                for h, hc, mc in self.timeline
            ],
            "segments": {by: [r.as_dict() for r in rows] for by, rows in self.segments.items()},
        }


def issue_report(session: Session, issue: Issue, now: datetime) -> IssueReport:
    """Every figure of the report, from the deliveries, provider events and engagements.

    A pruned issue's rows are gone: its figures are the ones stored just before (see
    :mod:`pipeline.analytics.summary`).
    """
    from pipeline.analytics.summary import report_from_summary, summary_of

    summary = summary_of(session, issue.id)
    if summary is not None:
        return report_from_summary(issue, summary)
    report = IssueReport(
        week_key=issue.week_key,
        subject=issue.subject,
        status=issue.status.value,
        send_started_at=issue.send_started_at,
    )
    _delivery_figures(session, issue, report)
    _event_figures(session, issue, report)
    report.unsubscribed = _unsubscribed_after(session, issue, now)
    openers, clickers = _engagement_figures(session, issue, report)
    report.segments = split_by_segment(session, issue, now, openers, clickers)
    return report


def _delivery_figures(session: Session, issue: Issue, report: IssueReport) -> None:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.issue_id == issue.id)
        .group_by(Delivery.status)
    )
    for status, count in rows:
        report.recipients += count
        if status is DeliveryStatus.SENT:
            report.sent = count
        elif status is DeliveryStatus.FAILED:
            report.failed = count
        elif status is DeliveryStatus.SKIPPED:
            report.skipped = count


def _event_figures(session: Session, issue: Issue, report: IssueReport) -> None:
    # A retried webhook, or a soft bounce then a hard one, counts once per message.
    rows = session.execute(
        select(ProviderEvent.type, ProviderEvent.bounce_kind, ProviderEvent.delivery_id)
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(
            Delivery.issue_id == issue.id,
            ProviderEvent.type.in_((EventType.BOUNCED, EventType.COMPLAINED)),
        )
    )
    hard: set[int] = set()
    soft: set[int] = set()
    complained: set[int] = set()
    for kind, bounce_kind, delivery_id in rows:
        if delivery_id is None:
            continue
        if kind is EventType.COMPLAINED:
            complained.add(delivery_id)
        elif bounce_kind is BounceKind.SOFT:
            soft.add(delivery_id)
        else:
            hard.add(delivery_id)
    report.bounced_hard = len(hard)
    report.bounced_soft = len(soft - hard)
    report.complained = len(complained)


def _unsubscribed_after(session: Session, issue: Issue, now: datetime) -> int:
    """Readers of this issue who unsubscribed between its send and the next issue's send."""
    window = unsubscribe_window(session, issue, now)
    if window is None:
        return 0
    start, until = window
    return int(
        session.scalar(
            select(func.count(SubscriberChange.subscriber_id.distinct()))
            .join(Delivery, Delivery.subscriber_id == SubscriberChange.subscriber_id)
            .where(
                Delivery.issue_id == issue.id,
                SubscriberChange.to_status == SubscriberStatus.UNSUBSCRIBED,
                SubscriberChange.at >= start,
                SubscriberChange.at < until,
            )
        )
        or 0
    )


def _engagement_figures(
    session: Session, issue: Issue, report: IssueReport
) -> tuple[set[int], set[int]]:
    """Fill the click and open figures; returns the human openers' and clickers' ids."""
    links = links_from_json(issue.links_json)
    figures = {link.position: LinkFigures(link) for link in links if not link.decoy}
    clickers: dict[int, set[int]] = {}
    all_clickers: set[int] = set()
    openers: set[int] = set()
    reasons: Counter[str] = Counter()
    start = issue.send_started_at
    bucket_human: Counter[int] = Counter()
    bucket_machine: Counter[int] = Counter()
    rows = _engagement_rows(session, issue.id, links)
    for kind, position, subscriber_id, machine, why, at in rows:
        if machine:
            reasons.update(r for r in why.split(",") if r)
        if kind is EngagementKind.OPEN:
            if machine:
                report.machine_opens += 1
            else:
                report.human_opens += 1
                openers.add(subscriber_id)
            continue
        if start is not None:
            hours = max(0.0, (at - start).total_seconds() / 3600)
            bucket = next((h for h in TIMELINE_HOURS if hours <= h), TIMELINE_HOURS[-1])
            (bucket_machine if machine else bucket_human)[bucket] += 1
        figure = figures.get(position) if position is not None else None
        if machine:
            report.machine_clicks += 1
            if figure is not None:
                figure.machine_clicks += 1
            continue
        if figure is None:  # a human on the decoy is impossible; never count it as reading
            continue
        report.human_clicks += 1
        figure.human_clicks += 1
        clickers.setdefault(figure.link.position, set()).add(subscriber_id)
        all_clickers.add(subscriber_id)
    for position, who in clickers.items():
        figures[position].human_clickers = len(who)
    report.human_clickers = len(all_clickers)
    report.links = [figures[p] for p in sorted(figures)]
    report.machine_reasons = dict(reasons.most_common())
    report.sections = _groups(report.links, lambda link: link.section)
    report.items = _groups(report.links, lambda link: f"{link.section}/{link.item}: {link.label}")
    humans_so_far = machines_so_far = 0
    for hours in TIMELINE_HOURS:
        humans_so_far += bucket_human[hours]
        machines_so_far += bucket_machine[hours]
        report.timeline.append((hours, humans_so_far, machines_so_far))
    return openers, all_clickers


def _engagement_rows(
    session: Session, issue_id: int, links: tuple[TrackedLink, ...]
) -> Iterator[tuple[EngagementKind, int | None, int, bool, str, datetime]]:
    """Our own clicks and opens, then the provider's (see analytics.provider_events)."""
    yield from session.execute(
        select(
            Engagement.kind,
            Engagement.position,
            Engagement.subscriber_id,
            Engagement.machine,
            Engagement.reasons,
            Engagement.at,
        ).where(Engagement.issue_id == issue_id)
    )
    for found in provider_engagements(session, issue_id, links):
        kind = EngagementKind.OPEN if found.kind is EventType.OPENED else EngagementKind.CLICK
        yield (
            kind,
            found.position,
            found.subscriber_id,
            found.machine,
            ",".join(found.reasons),
            found.at,
        )


def _groups(links: list[LinkFigures], key: Any) -> list[GroupFigures]:
    groups: dict[str, GroupFigures] = {}
    for figure in links:
        name = key(figure.link)
        group = groups.setdefault(name, GroupFigures(name))
        group.human_clicks += figure.human_clicks
        group.machine_clicks += figure.machine_clicks
    return list(groups.values())


LINK_CSV_FIELDS = (
    "id",
    "section",
    "item",
    "label",
    "url",
    "human_clicks",
    "machine_clicks",
    "unique_human_clickers",
)


def links_csv(report: IssueReport) -> str:
    """Per-link figures as CSV, every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LINK_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for figure in report.links:
        row = figure.as_dict()
        writer.writerow({k: spreadsheet_safe(str(row[k])) for k in LINK_CSV_FIELDS})
    return out.getvalue()


def spreadsheet_safe(value: str) -> str:
    """Outside text (labels, URLs, provider reasons) never starts a spreadsheet formula."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def report_json(report: IssueReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


def since(issue: Issue, now: datetime) -> timedelta | None:
    return now - issue.send_started_at if issue.send_started_at else None
