"""Status changes with their cause: the subscriber's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import Subscriber, SubscriberStatus, status_enum


class SubscriberChange(Base):
    """One change to a subscriber, and why it happened."""

    __tablename__ = "subscriber_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[SubscriberStatus | None] = mapped_column(
        status_enum(SubscriberStatus, "history_from_status")
    )
    to_status: Mapped[SubscriberStatus] = mapped_column(
        status_enum(SubscriberStatus, "history_to_status")
    )
    # A short machine-readable cause: "signup", "confirm", "unsubscribe:one-click",
    # "bounce:hard:postmark", "complaint:ses", "import", "admin", ...
    cause: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)


def change_status(
    session: Session,
    subscriber: Subscriber,
    to_status: SubscriberStatus,
    *,
    cause: str,
    detail: str | None = None,
) -> bool:
    """Move ``subscriber`` to ``to_status`` and record why; returns False if nothing changed."""
    change = status_change(subscriber, to_status, cause=cause, detail=detail)
    if change is None:
        return False
    session.add(change)
    session.flush()
    return True


def status_change(
    subscriber: Subscriber,
    to_status: SubscriberStatus,
    *,
    cause: str,
    detail: str | None = None,
) -> SubscriberChange | None:
    """:func:`change_status` without touching the session: the history row for the caller to add.

    Batches (provider events) add many rows with one flush; the rules are these alone.
    """
    if subscriber.status is to_status:
        return None
    now = utcnow()
    change = SubscriberChange(
        subscriber_id=subscriber.id,
        at=now,
        from_status=subscriber.status,
        to_status=to_status,
        cause=cause,
        detail=detail,
    )
    subscriber.status = to_status
    subscriber.updated_at = now
    if to_status is SubscriberStatus.ACTIVE:
        subscriber.confirmed_at = now
    elif to_status is not SubscriberStatus.PENDING:
        subscriber.unsubscribed_at = now
    return change


def record_joined(
    session: Session, subscriber: Subscriber, *, cause: str, detail: str | None = None
) -> None:
    """Record the status a new subscriber starts in (a change from nothing)."""
    session.add(
        SubscriberChange(
            subscriber_id=subscriber.id,
            at=subscriber.created_at,
            from_status=None,
            to_status=subscriber.status,
            cause=cause,
            detail=detail,
        )
    )


def history_of(session: Session, subscriber_id: int) -> list[SubscriberChange]:
    """Every recorded change, oldest first."""
    query = (
        select(SubscriberChange)
        .where(SubscriberChange.subscriber_id == subscriber_id)
        .order_by(SubscriberChange.at, SubscriberChange.id)
    )
    return list(session.scalars(query))
