"""The signup mail queue: confirmations written with the signup, sent after the answer.

Sending inside the request made the answer slow for a new address and fast for a known one
(218 ms against 5 ms with a 200 ms provider), which told anyone who is subscribed. So the
signup only adds a :class:`QueuedMail` row in its own transaction, and :func:`drain_mail_queue`
sends it: right after the response (a background task of the request), from the
background sender of ``pulse serve``, and whenever a test calls it. The row is durable, so
an email whose process died is sent by the next drain; at worst twice, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from subscribers.context import SubscriberContext
from subscribers.database import transaction, utcnow
from subscribers.models import ConfirmationSend, QueuedMail, Subscriber, SubscriberStatus

log = logging.getLogger("subscribers.mailqueue")

CONFIRM = "confirm"
RECOVER = "recover"
MAX_ATTEMPTS = 5
# A claimed row is someone's for this long; after that another drain may take it over.
CLAIM_LEASE = timedelta(minutes=5)
# Which subscriber status each kind of email is still right for.
_STILL_WANTED = {
    CONFIRM: (SubscriberStatus.PENDING,),
    RECOVER: (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED),
}

# Renders and sends one queued email for a subscriber: (ctx, kind, subscriber) -> None.
Deliver = Callable[[SubscriberContext, str, Subscriber], None]


@dataclass(frozen=True)
class _Claimed:
    id: int
    subscriber_id: int
    kind: str
    confirmation_send_id: int | None
    attempts: int


def queue_mail(session: Session, subscriber_id: int, kind: str, send_id: int | None) -> None:
    """Add an email to the queue inside the caller's transaction."""
    now = utcnow()
    session.add(
        QueuedMail(
            subscriber_id=subscriber_id,
            kind=kind,
            confirmation_send_id=send_id,
            created_at=now,
            due_at=now,
            attempts=0,
        )
    )
    session.flush()


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** min(attempts, 6))


def _claim(ctx: SubscriberContext, now: datetime, limit: int) -> list[_Claimed]:
    with transaction(ctx.sessions) as session:
        # SKIP LOCKED: two drains (serve and a worker) never take the same row on
        # PostgreSQL; SQLite has one writer at a time anyway.
        rows = list(
            session.scalars(
                select(QueuedMail)
                .where(
                    QueuedMail.sent_at.is_(None),
                    QueuedMail.failed_at.is_(None),
                    QueuedMail.due_at <= now,
                )
                .order_by(QueuedMail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.due_at = now + CLAIM_LEASE
        return [
            _Claimed(r.id, r.subscriber_id, r.kind, r.confirmation_send_id, r.attempts)
            for r in rows
        ]


def _finish(
    ctx: SubscriberContext, item: _Claimed, *, sent: bool, error: str | None, give_up: bool
) -> None:
    now = utcnow()
    with transaction(ctx.sessions) as session:
        row = session.get(QueuedMail, item.id)
        if row is None:
            return
        if sent:
            row.sent_at = now
            return
        row.attempts = item.attempts + 1
        row.last_error = (error or "")[:300] or None
        if give_up or row.attempts >= MAX_ATTEMPTS:
            row.failed_at = now
            # Free the throttle slot: the person may ask again and get one.
            if item.confirmation_send_id is not None:
                session.execute(
                    delete(ConfirmationSend).where(ConfirmationSend.id == item.confirmation_send_id)
                )
        else:
            row.due_at = now + _retry_delay(row.attempts)


def drain_mail_queue(
    ctx: SubscriberContext, deliver: Deliver, *, limit: int = 50, now: datetime | None = None
) -> int:
    """Send every due queued email (up to ``limit``); returns how many went out."""
    claimed = _claim(ctx, now or utcnow(), limit)
    sent = 0
    for item in claimed:
        with transaction(ctx.sessions) as session:
            subscriber = session.get(Subscriber, item.subscriber_id)
            wanted = _STILL_WANTED.get(item.kind, ())
            if subscriber is None or subscriber.erased or subscriber.status not in wanted:
                subscriber = None
            else:
                session.expunge(subscriber)
        if subscriber is None:
            # Confirmed, left or erased since: the email would be wrong now.
            _finish(ctx, item, sent=False, error="no longer needed", give_up=True)
            continue
        try:
            deliver(ctx, item.kind, subscriber)
        except Exception as err:  # the provider's failure: retried later, never raised
            log.warning("queued %s email %s not sent: %s", item.kind, item.id, type(err).__name__)
            _finish(ctx, item, sent=False, error=str(err), give_up=False)
            continue
        _finish(ctx, item, sent=True, error=None, give_up=False)
        sent += 1
    return sent


def pending_count(session: Session) -> int:
    """Queued emails not yet sent nor given up (for status and tests)."""
    return len(
        list(
            session.scalars(
                select(QueuedMail.id).where(
                    QueuedMail.sent_at.is_(None), QueuedMail.failed_at.is_(None)
                )
            )
        )
    )
