"""Subscriber tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.database import Base, UTCDateTime, utcnow


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
