"""Tables that make the weekly clock's decisions stick across processes.

``issue_milestones`` records once-per-week facts ("the weekly run happened", "the reminder
went out", "an editor approved"); its unique (week, kind) key is what lets two schedulers
race and only one of them act. The send lock (one process sending a week) is delivery's:
``pipeline.delivery.models.SendLock``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow


class IssueMilestone(Base):
    """Something that happens at most once per week and kind."""

    __tablename__ = "issue_milestones"
    __table_args__ = (UniqueConstraint("week_key", "kind", name="uq_issue_milestones_week_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_key: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)
