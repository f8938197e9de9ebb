"""The provider_events table: one row per provider event, in one vocabulary."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class EventType(enum.StrEnum):
    """One event vocabulary for every provider."""

    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    OPENED = "opened"
    CLICKED = "clicked"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"


class ProviderEvent(Base):
    """What a provider told us about a message, normalised, with the raw payload kept."""

    __tablename__ = "provider_events"
    __table_args__ = (
        # Providers retry webhooks: the same event id is stored once.
        UniqueConstraint("provider", "event_key", name="uq_provider_events_provider_event_key"),
        Index("ix_provider_events_type_occurred", "type", "occurred_at"),
        # Pruning finds old events linked to no delivery by when they arrived.
        Index("ix_provider_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    # The provider's event id, or a hash of the payload where it has none.
    event_key: Mapped[str] = mapped_column(String(200))
    type: Mapped[EventType] = mapped_column(status_enum(EventType, "event_type"))
    bounce_kind: Mapped[BounceKind | None] = mapped_column(status_enum(BounceKind, "bounce_kind"))
    recipient: Mapped[str | None] = mapped_column(String(320))
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    raw: Mapped[str] = mapped_column(Text)
