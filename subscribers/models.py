"""Subscriber tables."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow


class SubscriberStatus(enum.StrEnum):
    """Where a subscriber stands. Only ``active`` subscribers receive issues."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


def status_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, stored by value."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def new_referral_code() -> str:
    """A random referral code: 72 bits, so nobody finds another reader's by trying."""
    return secrets.token_urlsafe(9)


# Erasure keeps the row (so ids are never reused by a new person) but not the address.
ERASED_KEY_PREFIX = "erased:"


class Subscriber(Base):
    """One address on the list, with the consent record that put it there."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased address: uniqueness is case-insensitive on every backend.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[SubscriberStatus] = mapped_column(
        status_enum(SubscriberStatus, "subscriber_status"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_user_agent: Mapped[str | None] = mapped_column(String(500))
    consent_source: Mapped[str | None] = mapped_column(String(200))
    # A paused subscriber stays active but is not mailed until this moment has passed.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Don't track my clicks" (preferences): when false, this reader's links go direct.
    track_clicks: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The reader's profile (subscribers.profile): each optional, each from a fixed list.
    role: Mapped[str | None] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The code in this reader's referral link (subscribers.referrals): random, not the id.
    # Set on every insert; nullable only so SQLite can add it without copying the table.
    referral_code: Mapped[str | None] = mapped_column(
        String(24), unique=True, index=True, default=new_referral_code
    )

    @property
    def erased(self) -> bool:
        """Whether this row's personal data was erased (it stays as a tombstone)."""
        return self.email_key.startswith(ERASED_KEY_PREFIX)

    def is_paused(self, now: datetime) -> bool:
        """Whether issues are on hold for this subscriber at ``now``."""
        return self.paused_until is not None and self.paused_until > now


class ConfirmationSend(Base):
    """One confirmation email sent, kept to throttle how often an address is asked."""

    __tablename__ = "confirmation_sends"
    __table_args__ = (Index("ix_confirmation_sends_subscriber_sent", "subscriber_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueuedMail(Base):
    """Work for the background sender: a web signup to record, or an email to send.

    The signup form only adds a ``signup`` row (the same work for every address) and
    answers; the sender records it, which may queue a ``confirm`` or ``recover`` email for
    the subscriber. So new, known and suppressed addresses answer alike, in the same time.
    A ``signup`` row's personal fields are cleared once it is processed.
    """

    __tablename__ = "subscriber_mail_queue"
    __table_args__ = (Index("ix_subscriber_mail_queue_due", "sent_at", "failed_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE")
    )
    # A signup request, as the form gave it (already validated).
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(100))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_source: Mapped[str | None] = mapped_column(String(200))
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_user_agent: Mapped[str | None] = mapped_column(String(500))
    # The profile the form gave (subscribers.profile), already validated.
    role: Mapped[str | None] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The referral code the signup came with (unchecked until the signup is recorded).
    referral_code: Mapped[str | None] = mapped_column(String(24))
    # A ``milestone`` email: which referral milestone it announces.
    milestone_id: Mapped[int | None] = mapped_column(Integer)
    # The throttle slot an email holds: freed when it finally cannot be sent.
    confirmation_send_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))


class UsedFormToken(Base):
    """A spent signup form token (its digest): each form can be sent once."""

    __tablename__ = "used_form_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Referral(Base):
    """A reader who signed up through another's referral link.

    Recorded when the signup is recorded, credited (``credited_at``) only when the new
    reader confirms. One row per referred subscriber, ever: nobody credits twice.
    """

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_referrer_credited", "referrer_id", "credited_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    referred_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReferralMilestone(Base):
    """A milestone a referrer reached: the unique pair makes its email go out once."""

    __tablename__ = "referral_milestones"
    __table_args__ = (
        UniqueConstraint(
            "referrer_id", "threshold", name="uq_referral_milestones_referrer_threshold"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    threshold: Mapped[int] = mapped_column(Integer)
    reward: Mapped[str] = mapped_column(String(200))
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
