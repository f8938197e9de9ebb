"""Where each step stands: ``pulse lifecycle status`` (and one reader's view with EMAIL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import DeliveryStatus
from pipeline.welcome.models import WelcomeSend
from pipeline.welcome.outbox import has_row, in_series, mailable, started_at
from pipeline.welcome.series import Step, due_window
from subscribers.models import ERASED_KEY_PREFIX, Subscriber, SubscriberStatus


@dataclass(frozen=True)
class StepStatus:
    """One step's counts at a moment.

    ``due``: would go out on a pass now; ``waiting``: not due yet; ``paused``: due or soon,
    held by the reader's pause; ``stopped``: left the list (or was erased) before it went;
    ``missed``: went stale unsent (an outage, a long pause) and will not be sent.
    """

    step: Step
    sent: int = 0
    in_flight: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    due: int = 0
    waiting: int = 0
    paused: int = 0
    stopped: int = 0
    missed: int = 0


@dataclass(frozen=True)
class ReaderStep:
    """One step for one reader: its state and the moment that goes with it."""

    step: Step
    state: str  # sent, in-flight, retrying, failed, skipped, due, waiting, paused, stopped, missed
    at: datetime | None = None


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(Subscriber).where(*conditions)
    return int(session.scalar(query) or 0)


def series_status(session: Session, steps: tuple[Step, ...], now: datetime) -> list[StepStatus]:
    """Counts per step; before the first pass every reader is still to come (zeros)."""
    started = started_at(session)
    found = []
    for index, step in enumerate(steps):
        rows = dict(
            session.execute(
                select(WelcomeSend.status, func.count())
                .where(WelcomeSend.step == step.key)
                .group_by(WelcomeSend.status)
            ).all()
        )
        counts: dict[str, int] = {}
        if started is not None:
            window = due_window(steps, index, now)
            base = (in_series(started), ~has_row(step.key))
            active = and_(
                Subscriber.status == SubscriberStatus.ACTIVE,
                ~Subscriber.email_key.startswith(ERASED_KEY_PREFIX),
            )
            paused = Subscriber.paused_until > now
            fresh = Subscriber.confirmed_at > window.earliest
            counts = {
                "due": _count(
                    session, *base, mailable(now), fresh, Subscriber.confirmed_at <= window.latest
                ),
                "waiting": _count(
                    session, *base, mailable(now), Subscriber.confirmed_at > window.latest
                ),
                "paused": _count(session, *base, active, paused, fresh),
                "stopped": _count(session, *base, ~active),
                "missed": _count(session, *base, active, ~fresh),
            }
        found.append(
            StepStatus(
                step=step,
                sent=rows.get(DeliveryStatus.SENT, 0),
                in_flight=rows.get(DeliveryStatus.SENDING, 0),
                retrying=rows.get(DeliveryStatus.PENDING, 0),
                failed=rows.get(DeliveryStatus.FAILED, 0),
                skipped=rows.get(DeliveryStatus.SKIPPED, 0),
                **counts,
            )
        )
    return found


def reader_status(
    session: Session, steps: tuple[Step, ...], subscriber: Subscriber, now: datetime
) -> list[ReaderStep]:
    """Each step for one reader; ``not-in-series`` when the series is not theirs."""
    started = started_at(session)
    rows = {
        row.step: row
        for row in session.scalars(
            select(WelcomeSend).where(WelcomeSend.subscriber_id == subscriber.id)
        )
    }
    in_it = started is not None and bool(
        session.scalar(
            select(func.count()).where(Subscriber.id == subscriber.id, in_series(started))
        )
    )
    states = {
        DeliveryStatus.SENT: "sent",
        DeliveryStatus.SENDING: "in-flight",
        DeliveryStatus.PENDING: "retrying",
        DeliveryStatus.FAILED: "failed",
        DeliveryStatus.SKIPPED: "skipped",
    }
    out = []
    for index, step in enumerate(steps):
        row = rows.get(step.key)
        if row is not None:
            out.append(ReaderStep(step, states[row.status], row.sent_at or row.created_at))
            continue
        if not in_it or subscriber.confirmed_at is None:
            out.append(ReaderStep(step, "not-in-series"))
            continue
        due_at = subscriber.confirmed_at + step.delay
        window = due_window(steps, index, now)
        if subscriber.status is not SubscriberStatus.ACTIVE or subscriber.erased:
            state = "stopped"
        elif subscriber.confirmed_at <= window.earliest:
            state = "missed"
        elif subscriber.is_paused(now):
            state = "paused"
        else:
            state = "due" if subscriber.confirmed_at <= window.latest else "waiting"
        out.append(ReaderStep(step, state, due_at))
    return out


__all__ = ["ReaderStep", "StepStatus", "reader_status", "series_status"]
