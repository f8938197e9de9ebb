"""The issue report split by segment: sends, openers, clickers and unsubscribes per value.

Editors ask "did the senior readers in GB click?". Each figure is counted with the main
report's rules (humans only, the decoy link never, one reader once) and then grouped by the
reader's profile as it stands today (profiles are not versioned). Sends and unsubscribes are
one GROUP BY each; openers and clickers come from the main report's own sets of reader ids,
mapped to their profile in one query per chunk, so both views always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue
from subscribers.history import SubscriberChange
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.segments import UNSET, profile_column

# The report's splits: the fields the tailored issue changes the most for.
SPLIT_BY = ("level", "region")
ID_CHUNK = 5000


@dataclass
class SegmentFigures:
    """One value of one profile field (``none``: readers who did not say)."""

    value: str
    sent: int = 0
    openers: int = 0
    clickers: int = 0
    unsubscribed: int = 0

    @property
    def click_through_rate(self) -> float:
        return self.clickers / self.sent if self.sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "sent": self.sent,
            "unique_human_openers": self.openers,
            "unique_human_clickers": self.clickers,
            "click_through_rate": round(self.click_through_rate, 4),
            "unsubscribed_after": self.unsubscribed,
        }


def unsubscribe_window(
    session: Session, issue: Issue, now: datetime
) -> tuple[datetime, datetime] | None:
    """From the issue's send to the next issue's (or now): whose unsubscribes it counts."""
    if issue.send_started_at is None:
        return None
    following = session.scalar(
        select(func.min(Issue.send_started_at)).where(Issue.send_started_at > issue.send_started_at)
    )
    return issue.send_started_at, following or now


def split_by_segment(
    session: Session,
    issue: Issue,
    now: datetime,
    openers: Iterable[int],
    clickers: Iterable[int],
) -> dict[str, list[SegmentFigures]]:
    """Per field of :data:`SPLIT_BY`, the issue's figures per value, most sends first."""
    opened, clicked = set(openers), set(clickers)
    profiles = _profiles_of(session, opened | clicked)
    window = unsubscribe_window(session, issue, now)
    split: dict[str, list[SegmentFigures]] = {}
    for index, by in enumerate(SPLIT_BY):
        rows = _Rows()
        column = profile_column(by)
        for value, count in session.execute(
            select(column, func.count())
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT)
            .group_by(column)
        ):
            rows.of(value).sent = int(count)
        for value, count in Counter(profiles.get(i, _NOBODY)[index] for i in opened).items():
            rows.of(value).openers = count
        for value, count in Counter(profiles.get(i, _NOBODY)[index] for i in clicked).items():
            rows.of(value).clickers = count
        if window is not None:
            for value, count in _unsubscribes(session, issue, window, by):
                rows.of(value).unsubscribed = count
        split[by] = sorted(rows.values(), key=lambda r: (-r.sent, r.value))
    return split


_NOBODY: tuple[str | None, ...] = (None,) * len(SPLIT_BY)


class _Rows(dict[str, SegmentFigures]):
    def of(self, value: str | None) -> SegmentFigures:
        key = value or UNSET
        return self.setdefault(key, SegmentFigures(key))


def _profiles_of(session: Session, ids: set[int]) -> dict[int, tuple[str | None, ...]]:
    found: dict[int, tuple[str | None, ...]] = {}
    ordered = sorted(ids)
    columns = [profile_column(by) for by in SPLIT_BY]
    for start in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[start : start + ID_CHUNK]
        for subscriber_id, *values in session.execute(
            select(Subscriber.id, *columns).where(Subscriber.id.in_(chunk))
        ):
            found[subscriber_id] = tuple(values)
    return found


def _unsubscribes(
    session: Session, issue: Issue, window: tuple[datetime, datetime], by: str
) -> list[tuple[str | None, int]]:
    column = profile_column(by)
    start, until = window
    rows = session.execute(
        select(column, func.count(SubscriberChange.subscriber_id.distinct()))
        .join(Delivery, Delivery.subscriber_id == SubscriberChange.subscriber_id)
        .join(Subscriber, Subscriber.id == SubscriberChange.subscriber_id)
        .where(
            Delivery.issue_id == issue.id,
            SubscriberChange.to_status == SubscriberStatus.UNSUBSCRIBED,
            SubscriberChange.at >= start,
            SubscriberChange.at < until,
        )
        .group_by(column)
    )
    return [(value, int(count)) for value, count in rows]
