"""The engagements table (clicks and opens) and the delivery_retries ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class EngagementKind(enum.StrEnum):
    CLICK = "click"
    OPEN = "open"


class Engagement(Base):
    """One click on a tracked link, or one fetch of the open pixel, with its verdict.

    What is kept is what classification needs and no more: no raw IP address (a truncated
    network, see :func:`pipeline.analytics.privacy.network_of`) and no full user agent (a
    short family such as ``browser`` or ``scanner:proofpoint``).
    """

    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_issue_kind_position", "issue_id", "kind", "position"),
        Index("ix_engagements_delivery_at", "delivery_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[EngagementKind] = mapped_column(status_enum(EngagementKind, "engagement_kind"))
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    # The link's number within its issue (see pipeline/issues/links.py); null for opens.
    position: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    prefetch: Mapped[bool] = mapped_column(Boolean, default=False)
    network: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(40))
    machine: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why it counts as a machine's, comma-separated rule names; empty for a human's.
    reasons: Mapped[str] = mapped_column(String(200), default="")


class DeliveryRetry(Base):
    """A failed delivery put back in the queue by ``pulse issue retry-failed``: once, ever."""

    __tablename__ = "delivery_retries"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    retried_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the delivery had failed with before it was re-queued.
    previous_error: Mapped[str | None] = mapped_column(String(500))

