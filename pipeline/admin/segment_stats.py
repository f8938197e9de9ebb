"""Growth by segment for the desk: new confirmed readers per week per profile value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.weeks import week_key, week_monday
from subscribers.history import SubscriberChange
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.segments import UNSET, profile_column

# The values with the most new readers get their own series; the rest are summed.
TOP_VALUES = 5
OTHERS = "other values"


@dataclass(frozen=True)
class SegmentGrowth:
    """Per ISO week (oldest first), how many readers of each value confirmed."""

    by: str
    weeks: list[str]
    series: list[tuple[str, list[int]]]


def weekly_confirmed_by(session: Session, by: str, now: datetime, weeks: int = 12) -> SegmentGrowth:
    """Confirmations per week per value of profile field ``by`` (one query, bucketed here).

    A reader's value is today's: a profile is not versioned, so a reader who changed level
    counts under the new one in past weeks too.
    """
    column = profile_column(by)
    keys = [week_key((now - timedelta(weeks=back)).date()) for back in range(weeks - 1, -1, -1)]
    start = datetime.combine(week_monday(keys[0]), datetime.min.time(), tzinfo=now.tzinfo)
    rows = session.execute(
        select(SubscriberChange.at, column)
        .join(Subscriber, Subscriber.id == SubscriberChange.subscriber_id)
        .where(SubscriberChange.to_status == SubscriberStatus.ACTIVE, SubscriberChange.at >= start)
    )
    counts: dict[str, Counter[str]] = {}
    for at, value in rows:
        counts.setdefault(value or UNSET, Counter())[week_key(at.date())] += 1
    ranked = sorted(counts, key=lambda v: (-sum(counts[v].values()), v))
    series = [(value, [counts[value][k] for k in keys]) for value in ranked[:TOP_VALUES]]
    rest = ranked[TOP_VALUES:]
    if rest:
        series.append((OTHERS, [sum(counts[v][k] for v in rest) for k in keys]))
    return SegmentGrowth(by, keys, series)
