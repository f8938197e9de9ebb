"""Leaving and changing: unsubscribe, pause, rename, resubscribe, as the subscriber asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, object_session

from pulse_core.database import transaction, utcnow
from pulse_core.errors import ValidationError
from subscribers.context import SubscriberContext
from subscribers.fields import clean_first_name
from subscribers.history import change_status
from subscribers.leaving import LeaveReason, leave
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.profile import NO_PROFILE, PROFILE_FIELDS, Profile
from subscribers.referrals import credited_count
from subscribers.signup import deliver_confirmation, reserve_confirmation
from subscribers.tokens import ExpiredToken, InvalidToken

MAX_PAUSE_WEEKS = 8


@dataclass(frozen=True)
class SubscriberView:
    """What the preferences page shows: no more than the subscriber's own data."""

    id: int
    email: str
    first_name: str | None
    status: SubscriberStatus
    paused_until: datetime | None
    track_clicks: bool = True
    profile: Profile = NO_PROFILE
    # The reader's referral code and how many confirmed readers it brought.
    referral_code: str | None = None
    referrals: int = 0

    @classmethod
    def of(cls, subscriber: Subscriber) -> SubscriberView:
        now = utcnow()
        paused = subscriber.paused_until if subscriber.is_paused(now) else None
        session = object_session(subscriber)
        return cls(
            subscriber.id,
            subscriber.email,
            subscriber.first_name,
            subscriber.status,
            paused,
            subscriber.track_clicks,
            Profile(*(getattr(subscriber, name) for name in PROFILE_FIELDS)),
            subscriber.referral_code,
            credited_count(session, subscriber.id) if session is not None else 0,
        )


def _locked(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id, with_for_update=True)
    if subscriber is None or subscriber.erased:
        raise InvalidToken("this link is no longer valid")
    return subscriber


def subscriber_for_unsubscribe(ctx: SubscriberContext, token: str) -> SubscriberView:
    """The subscriber an unsubscribe token names (raises :class:`InvalidToken`)."""
    subject = ctx.signer.read_unsubscribe(token)
    with transaction(ctx.sessions) as session:
        return SubscriberView.of(_locked(session, subject.subscriber_id))


@dataclass(frozen=True)
class PreferencesAccess:
    """Who a preferences link names and what it may do.

    ``full`` is True only for a fresh mailed manage link: the long-lived link in every
    email can unsubscribe, resubscribe and pause, never rename, export or erase.
    """

    view: SubscriberView
    full: bool


def read_preferences_link(ctx: SubscriberContext, token: str) -> tuple[int, bool]:
    """The subscriber id a preferences or manage token names, and whether it is a manage one.

    Raises :class:`ExpiredToken` for an expired manage link, :class:`InvalidToken` otherwise.
    """
    lifetime = int(ctx.policy.manage_link_lifetime.total_seconds())
    try:
        return ctx.signer.read_manage(token, lifetime).subscriber_id, True
    except ExpiredToken:
        raise
    except InvalidToken:
        return ctx.signer.read_preferences(token).subscriber_id, False


def subscriber_for_preferences(ctx: SubscriberContext, token: str) -> PreferencesAccess:
    """The subscriber a preferences link names (raises :class:`InvalidToken`)."""
    subscriber_id, full = read_preferences_link(ctx, token)
    with transaction(ctx.sessions) as session:
        return PreferencesAccess(SubscriberView.of(_locked(session, subscriber_id)), full)


def send_manage_link(ctx: SubscriberContext, subscriber_id: int) -> None:
    """Mail the subscriber a fresh, short-lived link to rename, export or erase."""
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        email, name = subscriber.email, subscriber.first_name
    minutes = int(ctx.policy.manage_link_lifetime.total_seconds() // 60)
    ctx.send_email(ctx.mail.manage_link(email, name, ctx.manage_url(subscriber_id), minutes))


def subscriber_view(ctx: SubscriberContext, subscriber_id: int) -> SubscriberView:
    """The subscriber as the preferences page shows them."""
    with transaction(ctx.sessions) as session:
        return SubscriberView.of(_locked(session, subscriber_id))


def unsubscribe(
    ctx: SubscriberContext, subscriber_id: int, *, cause: str, detail: str | None = None
) -> SubscriberView:
    """Stop all mail to the subscriber and suppress the address; repeating it is harmless.

    The rules are :func:`subscribers.leaving.leave`'s: the person's pending deliveries of
    an issue being sent are withdrawn at once, so no later batch mails them.
    """
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        leave(
            session,
            subscriber,
            LeaveReason.UNSUBSCRIBED,
            cause=cause,
            detail=detail,
            rules=ctx.leaving,
        )
        return SubscriberView.of(subscriber)


def unsubscribe_by_token(ctx: SubscriberContext, token: str, *, cause: str) -> SubscriberView:
    """Unsubscribe whoever an unsubscribe token names (raises :class:`InvalidToken`)."""
    return unsubscribe(ctx, ctx.signer.read_unsubscribe(token).subscriber_id, cause=cause)


def rename(ctx: SubscriberContext, subscriber_id: int, first_name: str | None) -> SubscriberView:
    """Change the first name used in greetings (empty clears it)."""
    name = clean_first_name(first_name)
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        subscriber.first_name = name
        subscriber.updated_at = utcnow()
        return SubscriberView.of(subscriber)


def set_click_tracking(ctx: SubscriberContext, subscriber_id: int, on: bool) -> SubscriberView:
    """"Don't track my clicks": when off, this reader's links go direct from the next issue."""
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        subscriber.track_clicks = on
        subscriber.updated_at = utcnow()
        return SubscriberView.of(subscriber)


def set_profile(ctx: SubscriberContext, subscriber_id: int, profile: Profile) -> SubscriberView:
    """Replace the reader's profile with the (validated) one the page sent; blank clears."""
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        for name, value in profile.as_dict().items():
            setattr(subscriber, name, value)
        subscriber.updated_at = utcnow()
        return SubscriberView.of(subscriber)


def parse_pause_weeks(raw: str) -> int:
    """Weeks to pause, 1–8, from a form value; :class:`ValidationError` names the field."""
    try:
        weeks = int(raw.strip())
    except ValueError as err:
        raise ValidationError("weeks", f"choose 1 to {MAX_PAUSE_WEEKS} weeks") from err
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ValidationError("weeks", f"choose 1 to {MAX_PAUSE_WEEKS} weeks")
    return weeks


def pause(ctx: SubscriberContext, subscriber_id: int, weeks: int) -> SubscriberView:
    """Hold issues for ``weeks`` weeks; the subscriber stays active and resumes by itself."""
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ValidationError("weeks", f"choose 1 to {MAX_PAUSE_WEEKS} weeks")
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        if subscriber.status is not SubscriberStatus.ACTIVE:
            raise ValidationError("weeks", "only an active subscription can be paused")
        subscriber.paused_until = utcnow() + timedelta(weeks=weeks)
        subscriber.updated_at = utcnow()
        return SubscriberView.of(subscriber)


def resume(ctx: SubscriberContext, subscriber_id: int) -> SubscriberView:
    """End a pause now."""
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        subscriber.paused_until = None
        subscriber.updated_at = utcnow()
        return SubscriberView.of(subscriber)


def resubscribe(ctx: SubscriberContext, subscriber_id: int) -> SubscriberView:
    """Ask to come back: the address becomes pending and gets a fresh confirmation."""
    with transaction(ctx.sessions) as session:
        subscriber = _locked(session, subscriber_id)
        if subscriber.status is SubscriberStatus.ACTIVE:
            return SubscriberView.of(subscriber)
        change_status(session, subscriber, SubscriberStatus.PENDING, cause="preferences")
        target = reserve_confirmation(session, ctx, subscriber)
        view = SubscriberView.of(subscriber)
    if target is not None:
        deliver_confirmation(ctx, target)
    return view
