"""Double opt-in: signing up, sending (throttled) confirmations, confirming, welcoming."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from subscribers.addresses import email_key, normalise_email
from subscribers.context import SubscriberContext
from subscribers.database import transaction, utcnow
from subscribers.fields import clean_first_name
from subscribers.history import change_status, record_joined
from subscribers.models import ConfirmationSend, Subscriber, SubscriberStatus
from subscribers.suppression import lift
from subscribers.tokens import InvalidToken

log = logging.getLogger("subscribers.signup")

MAX_USER_AGENT = 500
MAX_SOURCE = 200
T = TypeVar("T")


@dataclass(frozen=True)
class Consent:
    """What someone agreed to, and where and when: stored with the subscriber."""

    text: str
    source: str
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class ConfirmationTarget:
    """Who to send a confirmation to, reserved inside a transaction and sent after it."""

    send_id: int
    subscriber_id: int
    email: str
    first_name: str | None


class ConfirmOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_ACTIVE = "already-active"
    NOT_PENDING = "not-pending"  # unsubscribed since: the old link no longer subscribes


def sign_up(ctx: SubscriberContext, email: str, first_name: str | None, consent: Consent) -> bool:
    """Record a signup and send a confirmation unless throttled; True if one was sent.

    The caller must answer the same way whatever this returns (no enumeration).
    """
    address = normalise_email(email, check_deliverability=ctx.policy.check_deliverability)
    name = clean_first_name(first_name)
    target = _retry_on_conflict(lambda: _record_signup(ctx, address, name, consent))
    return target is not None and deliver_confirmation(ctx, target)


def _retry_on_conflict(work: Callable[[], T], attempts: int = 3) -> T:
    """Run ``work`` again when a concurrent insert of the same address won the race."""
    for attempt in range(attempts):
        try:
            return work()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _record_signup(
    ctx: SubscriberContext, address: str, name: str | None, consent: Consent
) -> ConfirmationTarget | None:
    now = utcnow()
    with transaction(ctx.sessions) as session:
        subscriber = session.scalar(
            select(Subscriber).where(Subscriber.email_key == email_key(address)).with_for_update()
        )
        if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
            return None  # already in: nothing to send, and the page says the same thing
        if subscriber is None:
            subscriber = Subscriber(
                email=address,
                email_key=email_key(address),
                first_name=name,
                status=SubscriberStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
            _stamp_consent(subscriber, consent)
            session.add(subscriber)
            session.flush()
            record_joined(session, subscriber, cause="signup")
        else:
            # Pending, or left earlier: signing up again needs a fresh confirmation.
            change_status(session, subscriber, SubscriberStatus.PENDING, cause="signup")
            _stamp_consent(subscriber, consent)
            subscriber.first_name = subscriber.first_name or name
        return reserve_confirmation(session, ctx, subscriber)


def _stamp_consent(subscriber: Subscriber, consent: Consent) -> None:
    subscriber.consent_text = consent.text
    subscriber.consent_source = consent.source[:MAX_SOURCE]
    subscriber.consent_at = utcnow()
    subscriber.consent_ip = consent.ip[:64] if consent.ip else None
    subscriber.consent_user_agent = (consent.user_agent or "")[:MAX_USER_AGENT] or None


def reserve_confirmation(
    session: Session, ctx: SubscriberContext, subscriber: Subscriber
) -> ConfirmationTarget | None:
    """Claim a confirmation send for ``subscriber`` unless the throttle says no.

    The caller holds the subscriber's row lock (or SQLite's write lock), so two concurrent
    requests cannot both pass the check.
    """
    now = utcnow()
    recent = list(
        session.scalars(
            select(ConfirmationSend.sent_at).where(
                ConfirmationSend.subscriber_id == subscriber.id,
                ConfirmationSend.sent_at > now - timedelta(days=1),
            )
        )
    )
    too_soon = any(sent > now - ctx.policy.confirm_min_interval for sent in recent)
    if too_soon or len(recent) >= ctx.policy.confirm_max_per_day:
        log.info("confirmation for subscriber %s throttled", subscriber.id)
        return None
    send = ConfirmationSend(subscriber_id=subscriber.id, sent_at=now)
    session.add(send)
    session.flush()
    return ConfirmationTarget(send.id, subscriber.id, subscriber.email, subscriber.first_name)


def deliver_confirmation(ctx: SubscriberContext, target: ConfirmationTarget) -> bool:
    """Render and send a reserved confirmation; on failure free the throttle slot and raise."""
    message = ctx.mail.confirmation(
        target.email,
        target.first_name,
        ctx.confirm_url(target.subscriber_id),
        expires_days=ctx.policy.confirm_lifetime.days,
    )
    try:
        ctx.send_email(message)
    except Exception:
        with transaction(ctx.sessions) as session:
            session.execute(delete(ConfirmationSend).where(ConfirmationSend.id == target.send_id))
        raise
    return True


def request_confirmation(ctx: SubscriberContext, subscriber_id: int) -> bool:
    """Send a pending subscriber a confirmation if the throttle allows; True if sent."""
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subscriber_id, with_for_update=True)
        if subscriber is None or subscriber.status is not SubscriberStatus.PENDING:
            return False
        target = reserve_confirmation(session, ctx, subscriber)
    return target is not None and deliver_confirmation(ctx, target)


def renew_confirmation(ctx: SubscriberContext, token: str) -> bool:
    """Send a new link for a genuine but expired confirmation token (throttled)."""
    subject = ctx.signer.read_confirm_ignoring_age(token)
    return request_confirmation(ctx, subject.subscriber_id)


def confirm(ctx: SubscriberContext, token: str) -> ConfirmOutcome:
    """Activate the subscriber a confirmation token names; confirming twice is harmless.

    Raises :class:`InvalidToken` (or its :class:`ExpiredToken`) for a bad link.
    """
    subject = ctx.signer.read_confirm(
        token, max_age_seconds=int(ctx.policy.confirm_lifetime.total_seconds())
    )
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subject.subscriber_id, with_for_update=True)
        if subscriber is None or subscriber.erased:
            raise InvalidToken("this link is no longer valid")
        if subscriber.status is SubscriberStatus.ACTIVE:
            return ConfirmOutcome.ALREADY_ACTIVE
        if subscriber.status is not SubscriberStatus.PENDING:
            return ConfirmOutcome.NOT_PENDING
        change_status(session, subscriber, SubscriberStatus.ACTIVE, cause="confirm")
        subscriber.paused_until = None
        # Confirming again is the one thing that lifts a suppression.
        lift(session, subscriber.email, ctx.hash_keys)
        # The owner proved the inbox is theirs: the anti-flood throttle starts afresh.
        session.execute(
            delete(ConfirmationSend).where(ConfirmationSend.subscriber_id == subscriber.id)
        )
        welcome = (subscriber.id, subscriber.email, subscriber.first_name)
    if ctx.policy.welcome_email:
        _send_welcome(ctx, *welcome)
    return ConfirmOutcome.CONFIRMED


def _send_welcome(ctx: SubscriberContext, subscriber_id: int, email: str, name: str | None) -> None:
    # The subscription stands even if the welcome cannot be sent: log, do not fail.
    try:
        ctx.send_email(
            ctx.mail.welcome(
                email,
                name,
                unsubscribe_url=ctx.unsubscribe_url(subscriber_id),
                preferences_url=ctx.preferences_url(subscriber_id),
            )
        )
    except Exception:
        log.exception("welcome email to subscriber %s failed", subscriber_id)
