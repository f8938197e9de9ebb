"""The deliveries table as an outbox: create rows, claim batches, record the provider's answer.

Rows move pending → sending (leased) → sent | failed | skipped. A row only becomes ``sent``
after the provider acknowledged it, so a crash leaves it ``sending`` with a lease that runs
out, and the next claim hands it out again: nobody is skipped, and the only message that can
be sent twice is one in the batch that was in flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.providers.base import SendResult
from subscribers.database import utcnow
from subscribers.models import Subscriber, SubscriberStatus

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class ClaimedDelivery:
    """A leased row with what is needed to address the message."""

    delivery_id: int
    subscriber_id: int
    email: str
    first_name: str | None


def create_deliveries(session: Session, issue_id: int) -> int:
    """One pending row per active subscriber not yet in this issue; returns rows added.

    A single INSERT … SELECT keeps memory flat however long the list is, and the
    NOT EXISTS plus the unique (issue, subscriber) key make it safe to run again.
    """
    now = utcnow()
    already = exists().where(
        and_(Delivery.issue_id == issue_id, Delivery.subscriber_id == Subscriber.id)
    )
    source = select(
        literal(issue_id),
        Subscriber.id,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(now, Delivery.created_at.type),
    ).where(Subscriber.status == SubscriberStatus.ACTIVE, _not_paused(now), ~already)
    before = _count_rows(session, issue_id)
    session.execute(
        insert(Delivery).from_select(
            ["issue_id", "subscriber_id", "status", "attempts", "created_at"], source
        )
    )
    # Counted rather than read from rowcount, which drivers report unreliably here.
    return _count_rows(session, issue_id) - before


def _not_paused(now: datetime) -> ColumnElement[bool]:
    """A paused subscriber stays active but gets no issue until the pause ends."""
    return or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now)


def _count_rows(session: Session, issue_id: int) -> int:
    query = select(func.count()).select_from(Delivery).where(Delivery.issue_id == issue_id)
    return int(session.scalar(query) or 0)


def claim_next_batch(
    session: Session, issue_id: int, limit: int, *, lease_seconds: float = 300.0
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` rows that are pending or whose lease ran out.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim disjoint batches
    without waiting on each other; SQLite ignores it and relies on BEGIN IMMEDIATE (one
    writer at a time). Rows whose subscriber left meanwhile are marked skipped here, so
    an unsubscribe takes effect before the next batch even in the middle of a send.
    """
    now = utcnow()
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.issue_id == issue_id,
            or_(
                Delivery.status == DeliveryStatus.PENDING,
                and_(
                    Delivery.status == DeliveryStatus.SENDING,
                    or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                ),
            ),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    rows = session.execute(
        select(
            Delivery.id,
            Subscriber.id,
            Subscriber.email,
            Subscriber.first_name,
            Subscriber.status,
            Subscriber.paused_until,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    # Paused since the rows were created counts as gone for this issue, like leaving.
    mailable = {
        row[0]
        for row in rows
        if row[4] is SubscriberStatus.ACTIVE and (row[5] is None or row[5] <= now)
    }
    claimed = [
        ClaimedDelivery(delivery_id, subscriber_id, email, first_name)
        for delivery_id, subscriber_id, email, first_name, _status, _paused in rows
        if delivery_id in mailable
    ]
    gone = [row[0] for row in rows if row[0] not in mailable]
    if gone:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(gone))
            .values(status=DeliveryStatus.SKIPPED, lease_until=None, last_error="subscriber left")
        )
    if claimed:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_([c.delivery_id for c in claimed]))
            .values(
                status=DeliveryStatus.SENDING,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Delivery.attempts + 1,
            )
        )
    return claimed


def record_results(session: Session, results: Sequence[SendResult]) -> Counter[str]:
    """Apply the provider's per-recipient answers; returns counts by outcome."""
    now = utcnow()
    outcome: Counter[str] = Counter()
    for result in results:
        values: dict[str, object] = {"lease_until": None}
        if result.status.accepted:
            values |= {
                "status": DeliveryStatus.SENT,
                "provider_message_id": result.provider_message_id,
                "sent_at": now,
                "last_error": None,
            }
            outcome["sent"] += 1
        elif result.status.permanent:
            values |= {"status": DeliveryStatus.FAILED, "last_error": result.error}
            outcome["failed"] += 1
        else:
            # Transient: back to the queue until attempts run out.
            values |= {"status": DeliveryStatus.PENDING, "last_error": result.error}
            outcome["retry"] += 1
        session.execute(update(Delivery).where(Delivery.id == result.delivery_id).values(values))
        if result.suppress:
            _suppress(session, result.delivery_id)
    session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_([r.delivery_id for r in results]),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.attempts >= MAX_ATTEMPTS,
        )
        .values(status=DeliveryStatus.FAILED)
    )
    return outcome


def release_batch(session: Session, delivery_ids: Sequence[int], error: str) -> None:
    """Return a batch the provider did not take to the queue, noting why."""
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, lease_until=None, last_error=error)
    )


def _suppress(session: Session, delivery_id: int) -> None:
    subscriber_id = select(Delivery.subscriber_id).where(Delivery.id == delivery_id)
    session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id.scalar_subquery())
        .values(status=SubscriberStatus.BOUNCED, updated_at=utcnow())
    )


def counts_by_status(session: Session, issue_id: int) -> dict[DeliveryStatus, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.issue_id == issue_id)
        .group_by(Delivery.status)
    ).all()
    return {status: count for status, count in rows}


def unfinished(session: Session, issue_id: int) -> int:
    """Rows still pending or leased."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        )
        or 0
    )
