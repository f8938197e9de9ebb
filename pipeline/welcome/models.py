"""The welcome series' outbox: one row per (subscriber, step), and when the series began.

A row is the claim on a step: it is inserted ``sending`` under a lease, like a weekly
delivery (pipeline/delivery/models.py) and with the same columns and status vocabulary, and
becomes ``sent`` only on the provider's answer. The unique (subscriber, step) key is what
makes a step go out at most once however many schedulers run the series.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.delivery.models import DeliveryStatus
from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import Subscriber, status_enum


class WelcomeSend(Base):
    """One step of the series to one subscriber: leased, then sent, failed or skipped."""

    __tablename__ = "welcome_sends"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "step", name="uq_welcome_sends_subscriber_step"),
        # Claims look for a step's rows in one state (left behind, or due for a retry).
        Index("ix_welcome_sends_step_status", "step", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(30))
    status: Mapped[DeliveryStatus] = mapped_column(
        status_enum(DeliveryStatus, "welcome_send_status"), default=DeliveryStatus.SENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(300))
    # A row set back after a temporary refusal is not claimed again before this.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WelcomeSeriesStart(Base):
    """When the series began (the upgrade that added it): only readers confirming since get it.

    Without it, switching the series on would mail everyone who confirmed in the days
    before (and who already had the old single welcome email).
    """

    __tablename__ = "welcome_series_start"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Each pass looks for readers whose confirmation falls in a window: an index, not a scan.
# Declared here so the subscribers package stays unaware of the series.
Index("ix_subscribers_confirmed_at", Subscriber.confirmed_at)
