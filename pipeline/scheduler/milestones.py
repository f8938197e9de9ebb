"""Once-per-week facts, enforced by the database's unique key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.scheduler.models import IssueMilestone
from pulse_core.database import transaction, utcnow

WEEKLY_RUN = "weekly-run"
REMINDER = "reminder"
HOLD_REPORT = "hold-report"
DEADLINE = "deadline"
MISSED = "missed"


def claim(sessions: sessionmaker[Session], week: str, kind: str, detail: str | None = None) -> bool:
    """Record ``kind`` for ``week`` if nobody has; True only for the one caller that did.

    The INSERT either succeeds or hits the unique key: two schedulers on two hosts, or a
    scheduler racing a manual command, cannot both win.
    """
    try:
        with transaction(sessions) as session:
            session.add(IssueMilestone(week_key=week, kind=kind, at=utcnow(), detail=detail))
    except IntegrityError:
        return False
    return True


def has(session: Session, week: str, kind: str) -> bool:
    query = select(IssueMilestone.id).where(
        IssueMilestone.week_key == week, IssueMilestone.kind == kind
    )
    return session.scalar(query) is not None
