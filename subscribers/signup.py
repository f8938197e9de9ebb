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

from pulse_core.database import transaction, utcnow
from pulse_core.errors import SendFailed
from subscribers.addresses import email_key, normalise_email
from subscribers.context import SubscriberContext
from subscribers.emails import EmailRenderError
from subscribers.fields import clean_first_name
from subscribers.history import change_status, record_joined
from subscribers.mailqueue import (
    CONFIRM,
    MILESTONE,
    RECOVER,
    SignupRequest,
    drain_mail_queue,
    queue_mail,
    queue_signup,
)
from subscribers.models import ConfirmationSend, Subscriber, SubscriberStatus
from subscribers.outgoing import OutgoingEmail
from subscribers.profile import NO_PROFILE, Profile
from subscribers.referrals import clean_referral_code, credit_referral, milestone_of, note_referral
from subscribers.suppression import SuppressionReason, lift, suppression_reason_of
from subscribers.tokens import InvalidToken

log = logging.getLogger("subscribers.signup")

MAX_USER_AGENT = 500
# Stopped by the mail system, not by the person: signing up again does not undo these.
SUPPRESSED_STATUSES = (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)
_SUPPRESSED_BY_REASON = {
    SuppressionReason.BOUNCED: SubscriberStatus.BOUNCED,
    SuppressionReason.COMPLAINED: SubscriberStatus.COMPLAINED,
}
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


def sign_up(
    ctx: SubscriberContext,
    email: str,
    first_name: str | None,
    consent: Consent,
    profile: Profile = NO_PROFILE,
) -> bool:
    """Record a signup and queue its confirmation unless throttled; True if one was queued.

    Nothing is sent here: :func:`drain_signup_mail` sends the queue after the answer, so a
    new and a known address take the same time. The caller must answer the same way
    whatever this returns (no enumeration).
    """
    address = normalise_email(email, check_deliverability=ctx.policy.check_deliverability)
    name = clean_first_name(first_name)
    return _retry_on_conflict(lambda: _record_signup(ctx, address, name, consent, profile))


def request_signup(
    ctx: SubscriberContext,
    email: str,
    first_name: str | None,
    consent: Consent,
    profile: Profile = NO_PROFILE,
    *,
    referral_code: str | None = None,
) -> None:
    """Queue a web signup; :func:`drain_signup_mail` records it after the answer.

    The same work whoever the address belongs to (one row), so the answer takes the same
    time for new, pending, active and suppressed addresses.
    """
    address = normalise_email(email, check_deliverability=ctx.policy.check_deliverability)
    request = SignupRequest(
        email=address,
        first_name=clean_first_name(first_name),
        consent_text=consent.text,
        consent_source=consent.source[:MAX_SOURCE],
        consent_ip=consent.ip[:64] if consent.ip else None,
        consent_user_agent=(consent.user_agent or "")[:MAX_USER_AGENT] or None,
        profile=profile,
        referral_code=clean_referral_code(referral_code),
    )
    with transaction(ctx.sessions) as session:
        queue_signup(session, request)


def _record_request(ctx: SubscriberContext, request: SignupRequest) -> None:
    consent = Consent(
        text=request.consent_text,
        source=request.consent_source,
        ip=request.consent_ip,
        user_agent=request.consent_user_agent,
    )
    _retry_on_conflict(
        lambda: _record_signup(
            ctx,
            request.email,
            request.first_name,
            consent,
            request.profile,
            referral_code=request.referral_code,
        )
    )


def drain_signup_mail(ctx: SubscriberContext, *, limit: int = 50) -> int:
    """Record queued web signups and send the queued emails that are due; returns how many."""
    return drain_mail_queue(ctx, send_queued, _record_request, limit=limit)


def send_queued(
    ctx: SubscriberContext, kind: str, subscriber: Subscriber, milestone_id: int | None = None
) -> None:
    """Render and send one queued email (raises when the provider fails)."""
    if kind == MILESTONE:
        message = _milestone_message(ctx, subscriber, milestone_id)
    elif kind == RECOVER:
        message = ctx.mail.recovery(
            subscriber.email,
            subscriber.first_name,
            ctx.recover_url(subscriber.id),
            reason=suppression_reason(subscriber),
            expires_days=ctx.policy.confirm_lifetime.days,
        )
    else:
        message = ctx.mail.confirmation(
            subscriber.email,
            subscriber.first_name,
            ctx.confirm_url(subscriber.id),
            expires_days=ctx.policy.confirm_lifetime.days,
        )
    ctx.send_email(message)


def suppression_reason(subscriber: Subscriber) -> str:
    """What stopped the mail to a bounced or complained address, in plain words."""
    since = subscriber.unsubscribed_at
    when = f" on {since:%-d %B %Y}" if since else ""
    if subscriber.status is SubscriberStatus.COMPLAINED:
        return f"your mail provider reported one of our emails as unwanted (spam){when}"
    return f"emails to this address bounced as undeliverable{when}"


def _retry_on_conflict(work: Callable[[], T], attempts: int = 3) -> T:
    """Run ``work`` again when a concurrent insert of the same address won the race."""
    for attempt in range(attempts):
        try:
            return work()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _milestone_message(
    ctx: SubscriberContext, subscriber: Subscriber, milestone_id: int | None
) -> OutgoingEmail:
    with transaction(ctx.sessions) as session:
        milestone = milestone_of(session, milestone_id) if milestone_id else None
        if milestone is None:
            raise EmailRenderError("the milestone of this email is gone")
        threshold, reward = milestone.threshold, milestone.reward
    return ctx.mail.referral_milestone(
        subscriber.email,
        subscriber.first_name,
        threshold=threshold,
        reward=reward,
        referral_url=ctx.referral_url(subscriber.referral_code),
        preferences_url=ctx.preferences_url(subscriber.id),
        unsubscribe_url=ctx.unsubscribe_url(subscriber.id),
    )


def _record_signup(
    ctx: SubscriberContext,
    address: str,
    name: str | None,
    consent: Consent,
    profile: Profile = NO_PROFILE,
    *,
    referral_code: str | None = None,
) -> bool:
    now = utcnow()
    with transaction(ctx.sessions) as session:
        subscriber = session.scalar(
            select(Subscriber).where(Subscriber.email_key == email_key(address)).with_for_update()
        )
        if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
            return False  # already in: nothing to send, and the page says the same thing
        if subscriber is not None and subscriber.status in SUPPRESSED_STATUSES:
            # Bounced or complained: it stays so (status, consent record and all) until the
            # owner confirms from a recovery email that says what happened, sent rarely.
            recovery = reserve_confirmation(
                session, ctx, subscriber, min_interval=ctx.policy.recover_min_interval
            )
            if recovery is not None:
                queue_mail(session, subscriber.id, RECOVER, recovery.send_id)
            return recovery is not None
        if subscriber is None:
            # An address erased after a bounce or complaint keeps that suppression: the new
            # row starts in the same state, and only the recovery email can lift it.
            reason = suppression_reason_of(session, address, ctx.hash_keys)
            suppressed = _SUPPRESSED_BY_REASON.get(reason) if reason else None
            subscriber = Subscriber(
                email=address,
                email_key=email_key(address),
                first_name=name,
                status=suppressed or SubscriberStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
            if suppressed is None:
                _stamp_consent(subscriber, consent)
                _fill_profile(subscriber, profile)
            session.add(subscriber)
            session.flush()
            record_joined(session, subscriber, cause="signup")
            if suppressed is not None:
                recovery = reserve_confirmation(
                    session, ctx, subscriber, min_interval=ctx.policy.recover_min_interval
                )
                if recovery is not None:
                    queue_mail(session, subscriber.id, RECOVER, recovery.send_id)
                return recovery is not None
        else:
            # Pending, or left earlier: signing up again needs a fresh confirmation.
            change_status(session, subscriber, SubscriberStatus.PENDING, cause="signup")
            _stamp_consent(subscriber, consent)
            subscriber.first_name = subscriber.first_name or name
            _fill_profile(subscriber, profile)
        note_referral(session, subscriber, referral_code)
        target = reserve_confirmation(session, ctx, subscriber)
        if target is not None:
            queue_mail(session, subscriber.id, CONFIRM, target.send_id)
        return target is not None


def _fill_profile(subscriber: Subscriber, profile: Profile) -> None:
    """Fill the profile fields the subscriber has not set; never change one that is set.

    Anyone can type anyone's address into the form, so a signup for a known address
    must not rewrite that person's profile: only its owner does, from the preferences page.
    """
    for name, value in profile.as_dict().items():
        if value is not None and getattr(subscriber, name) is None:
            setattr(subscriber, name, value)


def _stamp_consent(subscriber: Subscriber, consent: Consent) -> None:
    subscriber.consent_text = consent.text
    subscriber.consent_source = consent.source[:MAX_SOURCE]
    subscriber.consent_at = utcnow()
    subscriber.consent_ip = consent.ip[:64] if consent.ip else None
    subscriber.consent_user_agent = (consent.user_agent or "")[:MAX_USER_AGENT] or None


def reserve_confirmation(
    session: Session,
    ctx: SubscriberContext,
    subscriber: Subscriber,
    *,
    min_interval: timedelta | None = None,
) -> ConfirmationTarget | None:
    """Claim a confirmation send for ``subscriber`` unless the throttle says no.

    The caller holds the subscriber's row lock (or SQLite's write lock), so two concurrent
    requests cannot both pass the check. ``min_interval`` overrides the policy's.
    """
    now = utcnow()
    interval = min_interval or ctx.policy.confirm_min_interval
    recent = list(
        session.scalars(
            select(ConfirmationSend.sent_at).where(
                ConfirmationSend.subscriber_id == subscriber.id,
                ConfirmationSend.sent_at > now - max(timedelta(days=1), interval),
            )
        )
    )
    too_soon = any(sent > now - interval for sent in recent)
    today = [sent for sent in recent if sent > now - timedelta(days=1)]
    if too_soon or len(today) >= ctx.policy.confirm_max_per_day:
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
    except SendFailed:
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
        _credit_referrer(session, ctx, subscriber)  # before lift: a suppressed one earns none
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


def _credit_referrer(session: Session, ctx: SubscriberContext, subscriber: Subscriber) -> None:
    """Credit whoever referred this reader; queue the milestone emails reached (once each)."""
    suppressed = suppression_reason_of(session, subscriber.email, ctx.hash_keys) is not None
    credit = credit_referral(
        session, subscriber, ctx.policy.referral_milestones, suppressed=suppressed
    )
    if credit is None:
        return
    for milestone_id in credit.milestone_ids:
        queue_mail(session, credit.referrer_id, MILESTONE, None, milestone_id=milestone_id)


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
    except (SendFailed, EmailRenderError):
        log.exception("welcome email to subscriber %s failed", subscriber_id)


class RecoverOutcome(enum.StrEnum):
    RECOVERED = "recovered"
    ALREADY_ACTIVE = "already-active"
    NOT_SUPPRESSED = "not-suppressed"  # left by other means since: nothing to lift


def _recover_subject(ctx: SubscriberContext, token: str) -> int:
    lifetime = int(ctx.policy.confirm_lifetime.total_seconds())
    return ctx.signer.read_recover(token, max_age_seconds=lifetime).subscriber_id


def recovery_reason(ctx: SubscriberContext, token: str) -> str | None:
    """What the recovery page tells its visitor happened; None when nothing is suppressed.

    Raises :class:`InvalidToken` (or :class:`ExpiredToken`) for a bad link.
    """
    subscriber_id = _recover_subject(ctx, token)
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.erased:
            raise InvalidToken("this link is no longer valid")
        if subscriber.status not in SUPPRESSED_STATUSES:
            return None
        return suppression_reason(subscriber)


def recover(ctx: SubscriberContext, token: str, consent: Consent) -> RecoverOutcome:
    """Lift a bounce or complaint: the owner pressed the button in the recovery email.

    The consent record is written now, from this confirmation, never from the signup form
    that anyone could have filled in.
    """
    subscriber_id = _recover_subject(ctx, token)
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subscriber_id, with_for_update=True)
        if subscriber is None or subscriber.erased:
            raise InvalidToken("this link is no longer valid")
        if subscriber.status is SubscriberStatus.ACTIVE:
            return RecoverOutcome.ALREADY_ACTIVE
        if subscriber.status not in SUPPRESSED_STATUSES:
            return RecoverOutcome.NOT_SUPPRESSED
        previous = subscriber.status.value
        change_status(
            session,
            subscriber,
            SubscriberStatus.ACTIVE,
            cause="recover",
            detail=f"confirmed again after {previous}",
        )
        _stamp_consent(subscriber, consent)
        subscriber.paused_until = None
        lift(session, subscriber.email, ctx.hash_keys)
        session.execute(
            delete(ConfirmationSend).where(ConfirmationSend.subscriber_id == subscriber.id)
        )
        welcome = (subscriber.id, subscriber.email, subscriber.first_name)
    if ctx.policy.welcome_email:
        _send_welcome(ctx, *welcome)
    return RecoverOutcome.RECOVERED
