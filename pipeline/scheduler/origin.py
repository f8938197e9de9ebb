"""When the newsletter began: no week due before then is ever built or sent by the clock.

A fresh install (or ``pulse demo``) has a "last send time" that nobody could have met: it
lies before the database held anything and before anyone was on the list. Catching up such
a week would assemble it from content meant for next week and mail the list an issue that
nobody prepared, so the clock only ever considers weeks due after both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, SalaryPoint, Snippet
from pipeline.issues.models import Issue
from subscribers.models import Subscriber


def installed_at(session: Session) -> datetime | None:
    """The first thing the database recorded (content, an issue or a subscriber)."""
    firsts = [
        session.scalar(select(func.min(column)))
        for column in (
            Snippet.created_at,
            SalaryPoint.created_at,
            JobListing.created_at,
            Issue.created_at,
            Subscriber.created_at,
        )
    ]
    known = [moment for moment in firsts if moment is not None]
    return min(known) if known else None


def list_started_at(session: Session) -> datetime | None:
    """When the first subscriber joined the list (None: nobody has)."""
    return session.scalar(select(func.min(Subscriber.created_at)))


def newsletter_started_at(session: Session) -> datetime | None:
    """The later of the install and the list's start; None while there is no list."""
    install, first_reader = installed_at(session), list_started_at(session)
    if install is None or first_reader is None:
        return None
    return max(install, first_reader)
