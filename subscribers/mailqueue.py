"""The signup queue: web signups and their emails, worked through after the answer.

Sending inside the request made the answer slow for a new address and fast for a known one
(218 ms against 5 ms with a 200 ms provider), which told anyone who is subscribed; even the
database work differs (a new row and a throttle slot, or nothing). So the form only adds a
``signup`` row to :class:`QueuedMail`, the same for every address, and answers.
:func:`drain_mail_queue` does the rest: records the signup (which may queue a ``confirm``
or ``recover`` email) and sends the emails, right after the response (a background task of
the request), from ``pulse serve``'s background sender, and whenever a test calls it. Rows
are durable, so work whose process died is done by the next drain; an email at worst
twice, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pulse_core.database import transaction, utcnow
from pulse_core.errors import PulseError, SendFailed
from subscribers.context import SubscriberContext
from subscribers.emails import EmailRenderError
from subscribers.models import ConfirmationSend, QueuedMail, Subscriber, SubscriberStatus
from subscribers.profile import NO_PROFILE, PROFILE_FIELDS, Profile

log = logging.getLogger("subscribers.mailqueue")

SIGNUP = "signup"
CONFIRM = "confirm"
RECOVER = "recover"
MILESTONE = "milestone"  # a referral milestone reached (subscribers.referrals)
MAX_ATTEMPTS = 5
# A claimed row is someone's for this long; after that another drain may take it over.
CLAIM_LEASE = timedelta(minutes=5)
# Which subscriber status each kind of email is still right for.
_STILL_WANTED = {
    CONFIRM: (SubscriberStatus.PENDING,),
    RECOVER: (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED),
    MILESTONE: (SubscriberStatus.ACTIVE,),
}


@dataclass(frozen=True)
class SignupRequest:
    """A web signup as the form gave it (validated), waiting to be recorded."""

    email: str
    first_name: str | None
    consent_text: str
    consent_source: str
    consent_ip: str | None
    consent_user_agent: str | None
    profile: Profile = NO_PROFILE
    # From a referral link: checked only when the signup is recorded.
    referral_code: str | None = None


# Renders and sends one queued email for a subscriber: (ctx, kind, subscriber, milestone
# id of a ``milestone`` email or None) -> None.
Deliver = Callable[[SubscriberContext, str, Subscriber, int | None], None]
# Records one signup request (and queues its email): (ctx, request) -> None.
Record = Callable[[SubscriberContext, SignupRequest], None]


@dataclass(frozen=True)
class _Claimed:
    id: int
    subscriber_id: int | None
    kind: str
    confirmation_send_id: int | None
    attempts: int
    request: SignupRequest | None
    milestone_id: int | None = None


def queue_signup(session: Session, request: SignupRequest) -> None:
    """Add a web signup to the queue: the only database work the form's request does."""
    now = utcnow()
    session.add(
        QueuedMail(
            kind=SIGNUP,
            email=request.email,
            first_name=request.first_name,
            consent_text=request.consent_text,
            consent_source=request.consent_source,
            consent_ip=request.consent_ip,
            consent_user_agent=request.consent_user_agent,
            **request.profile.as_dict(),
            referral_code=request.referral_code,
            created_at=now,
            due_at=now,
            attempts=0,
        )
    )


def queue_mail(
    session: Session,
    subscriber_id: int,
    kind: str,
    send_id: int | None,
    *,
    milestone_id: int | None = None,
) -> None:
    """Add an email to the queue inside the caller's transaction."""
    now = utcnow()
    session.add(
        QueuedMail(
            subscriber_id=subscriber_id,
            kind=kind,
            confirmation_send_id=send_id,
            milestone_id=milestone_id,
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
            _Claimed(
                r.id,
                r.subscriber_id,
                r.kind,
                r.confirmation_send_id,
                r.attempts,
                _request_of(r),
                r.milestone_id,
            )
            for r in rows
        ]


def _request_of(row: QueuedMail) -> SignupRequest | None:
    if row.kind != SIGNUP or row.email is None:
        return None
    return SignupRequest(
        email=row.email,
        first_name=row.first_name,
        consent_text=row.consent_text or "",
        consent_source=row.consent_source or "",
        consent_ip=row.consent_ip,
        consent_user_agent=row.consent_user_agent,
        profile=Profile(row.role, row.level, row.region, row.timezone),
        referral_code=row.referral_code,
    )


def _finish(
    ctx: SubscriberContext, item: _Claimed, *, sent: bool, error: str | None, give_up: bool
) -> None:
    now = utcnow()
    with transaction(ctx.sessions) as session:
        row = session.get(QueuedMail, item.id)
        if row is None:
            return
        if row.kind == SIGNUP and (sent or give_up or row.attempts + 1 >= MAX_ATTEMPTS):
            # Done with the request: its personal data has no reason to stay here.
            row.email = row.first_name = row.consent_ip = row.consent_user_agent = None
            row.consent_text = row.consent_source = row.referral_code = None
            for name in PROFILE_FIELDS:
                setattr(row, name, None)
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
    ctx: SubscriberContext,
    deliver: Deliver,
    record: Record,
    *,
    limit: int = 50,
    now: datetime | None = None,
) -> int:
    """Record due signups and send due emails, ``limit`` rows a round, until none are due.

    Returns how many emails went out. A round's signups queue their emails for the next.
    """
    sent = 0
    for _round in range(3):  # signup, then its email; a third round only for stragglers
        claimed = _claim(ctx, now or utcnow(), limit)
        if not claimed:
            break
        sent += _work(ctx, claimed, deliver, record)
    return sent


def _work(ctx: SubscriberContext, claimed: list[_Claimed], deliver: Deliver, record: Record) -> int:
    sent = 0
    for item in claimed:
        if item.kind == SIGNUP:
            if item.request is None:
                _finish(ctx, item, sent=False, error="empty signup", give_up=True)
                continue
            try:
                record(ctx, item.request)
            except (SQLAlchemyError, PulseError) as err:  # e.g. a busy database: retried later
                log.warning("queued signup %s not recorded: %s", item.id, type(err).__name__)
                _finish(ctx, item, sent=False, error=type(err).__name__, give_up=False)
                continue
            _finish(ctx, item, sent=True, error=None, give_up=False)
            continue
        with transaction(ctx.sessions) as session:
            subscriber = session.get(Subscriber, item.subscriber_id) if item.subscriber_id else None
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
            deliver(ctx, item.kind, subscriber, item.milestone_id)
        except (SendFailed, EmailRenderError) as err:  # retried later, never raised
            log.warning("queued %s email %s not sent: %s", item.kind, item.id, type(err).__name__)
            _finish(ctx, item, sent=False, error=str(err), give_up=False)
            continue
        _finish(ctx, item, sent=True, error=None, give_up=False)
        sent += 1
    return sent


def pending_count(session: Session) -> int:
    """Queued signups and emails not yet done nor given up (for status and tests)."""
    count = session.scalar(
        select(func.count())
        .select_from(QueuedMail)
        .where(QueuedMail.sent_at.is_(None), QueuedMail.failed_at.is_(None))
    )
    return count or 0
