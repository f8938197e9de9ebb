"""When the series holds back: never in the same hour as the weekly issue.

A reader should not find a series email beside the issue. So no series email goes out from
an hour before the scheduled send to an hour after it, while any issue is sending (a send
held and approved later, a long list), nor within an hour of an issue finishing. What is due
meanwhile simply goes at the first pass after: the deferral never makes a step stale, as
:data:`pipeline.welcome.series.STALE_AFTER` is far longer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.issues.models import Issue, IssueStatus
from pipeline.schedule import WeeklySchedule

QUIET = timedelta(hours=1)


def quiet_reason(session: Session, schedule: WeeklySchedule, now: datetime) -> str | None:
    """Why the series must wait at ``now``, or None when it may send."""
    previous, upcoming = schedule.previous_send(now), schedule.next_send(now)
    if now - previous < QUIET or upcoming - now < QUIET:
        due = previous if now - previous < QUIET else upcoming
        return f"the weekly issue's hour (due {due.astimezone(schedule.zone):%a %H:%M %Z})"
    sending = session.scalar(
        select(Issue.week_key).where(Issue.status == IssueStatus.SENDING).limit(1)
    )
    if sending:
        return f"issue {sending} is sending"
    finished = session.scalar(select(func.max(Issue.sent_at)))
    if finished is not None and now - finished < QUIET:
        return "an issue finished sending within the hour"
    return None
