"""When issues go out: the next send time, the week editors prepare, the desk's weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.issues.models import Issue
from pipeline.issues.states import DONE
from pipeline.schedule import WeeklySchedule
from pipeline.weeks import week_key, week_monday
from pipeline.wiring import Pulse


def next_send_time(schedule: WeeklySchedule, now: datetime) -> datetime:
    """The next scheduled send (PULSE_SCHEDULE), in the newsletter's time zone (PULSE_TIMEZONE)."""
    return schedule.next_send(now).astimezone(schedule.zone)


def send_time_of(schedule: WeeklySchedule, week: str) -> datetime:
    """When ``week`` is due, in the newsletter's time zone."""
    return schedule.send_time(week).astimezone(schedule.zone)


def next_unsent_week(session: Session, schedule: WeeklySchedule, now: datetime) -> str:
    """The week editors prepare next: the next scheduled send's week, past any already done.

    After ``pulse demo`` (or a send by hand) this week's issue is sent before its send
    time; the week to prepare is then the following one.
    """
    due = schedule.next_send(now)
    done = set(session.scalars(select(Issue.week_key).where(Issue.status.in_(DONE))))
    week = schedule.week_at(due)
    while week in done:
        due += timedelta(days=7)
        week = schedule.week_at(due)
    return week


def upcoming_week(pulse: Pulse, now: datetime) -> str:
    """The next unsent week: the issue editors are working on (past any sent early)."""
    with pulse.db.sessions() as session:
        return next_unsent_week(session, pulse.schedule, now)


def desk_weeks(session: Session, upcoming: str, ahead: int = 4) -> list[str]:
    """Weeks worth choosing on the desk: every issue's week and the next few, in week order."""
    weeks = set(session.scalars(select(Issue.week_key)))
    week = upcoming
    for _ in range(ahead + 1):
        weeks.add(week)
        week = week_key(week_monday(week) + timedelta(days=7))
    return sorted(weeks)


def early_send_notice(schedule: WeeklySchedule, week: str, now: datetime) -> str | None:
    """What the schedule would do with ``week`` if it is not yet due; None once it is due.

    ``pulse issue send --week`` on a future week bypasses the clock (its readiness check
    and holds), so the command says what the clock would have done and asks first.
    """
    due = schedule.send_time(week)
    if due <= now:
        return None
    local = due.astimezone(schedule.zone)
    return (
        f"{week} is not due yet: the scheduler would build and check it at "
        f"{local:%a %d %b %Y %H:%M %Z} and send it then only if it is ready "
        f"(or approved), holding it otherwise"
    )
