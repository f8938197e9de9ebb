"""One seeded week: its content (every section) and a list of readers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import update

from pipeline.demo.seed import seed_week
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import Subscriber

WEEK = "2026-W48"


def seed_week_of(
    pulse: Pulse, readers: int = 12, week: str = WEEK, *, established: bool = False
) -> None:
    """Seed ``week``'s content and ``readers`` active subscribers.

    ``established`` backdates the readers to four weeks before the week: the weekly clock
    never sends a week due before the list began.
    """
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(week), readers)
        if established:
            joined = datetime.combine(week_monday(week), time(), tzinfo=UTC) - timedelta(days=28)
            session.execute(update(Subscriber).values(created_at=joined))


def build_seeded_week(pulse: Pulse, readers: int = 12, week: str = WEEK) -> None:
    """Seed ``week`` (see :func:`seed_week_of`) and build its issue."""
    from pipeline.workflow import weekly

    seed_week_of(pulse, readers, week)
    weekly.build_week(pulse, week)
