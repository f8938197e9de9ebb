"""The deliveries table: the outbox of a send, one row per (issue, subscriber)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class DeliveryStatus(enum.StrEnum):
    """pending → sending (leased) → sent | failed | skipped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(Base):
    """One message of one issue to one subscriber."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
        # Claims scan pending rows of one issue one variant at a time, in id order
        # (skipping any not yet due): a batch shares one rendered body.
        Index("ix_deliveries_issue_status_variant_id", "issue_id", "status", "variant", "id"),
        # Rows set aside to retry are few: this partial index finds the next one due and
        # counts those waiting without scanning the issue, and rows never deferred (nearly
        # all) have no entry, so claims and results do not pay for it.
        Index(
            "ix_deliveries_retry_due",
            "issue_id",
            "not_before",
            sqlite_where=text("not_before IS NOT NULL"),
            postgresql_where=text("not_before IS NOT NULL"),
        ),
        # Local-time sending (waves.py): the next wave due and the rows waiting for it.
        # Sends without waves leave ``due_at`` NULL, so they have no entry here.
        Index(
            "ix_deliveries_wave_due",
            "issue_id",
            "due_at",
            sqlite_where=text("due_at IS NOT NULL"),
            postgresql_where=text("due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign keys on these two (migration 0032): PostgreSQL checks a foreign key row by
    # row, and the two checks were more than half the cost of creating a send's rows (27 of
    # 47 s for a million). Rows are only ever made by create_deliveries' INSERT … SELECT
    # from ``subscribers`` while the send holds the issue's row lock, so both exist when a
    # row is made; neither issues nor subscribers are ever deleted (erasure anonymises the
    # row), and a claim skips a row whose reader is gone, should an operator delete one.
    issue_id: Mapped[int] = mapped_column(Integer)
    subscriber_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        status_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How long the sender that claimed the row holds it (``sending`` rows only); a pending
    # row's wait for a retry is ``not_before``, never this.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which claim leased the row: after a crash the same rows are handed out again as one
    # batch, so the batch (and a provider idempotency key derived from it) is unchanged.
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    # The process holding the lease (see liveness.py): its batches are taken back as soon as
    # that process is known dead, without waiting for ``lease_until``.
    lease_owner: Mapped[str | None] = mapped_column(String(300))
    # A pending row set aside after a temporary refusal is not claimed before this time.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Local-time sending (waves.py): not claimable before the reader's wave; set when the
    # row is created and never changed (unlike ``not_before``, a retry's wait). NULL: at once.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Temporary per-recipient refusals so far (retry.py decides when to give up).
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The tailored variant this reader gets (issue_variants.key), set when the row is made;
    # NULL: the default issue (pipeline/delivery/variants.py).
    variant: Mapped[str | None] = mapped_column(String(80))


class SendRateEntry(Base):
    """Messages released to a provider at a moment: the shared sliding window of the rate cap.

    Every worker reserves its batch here before sending, so ``PULSE_SEND_RATE`` and the
    hourly and daily caps hold for all workers together.
    """

    __tablename__ = "send_rate_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unix time in seconds: cheap to compare and sum over sliding windows.
    at: Mapped[float] = mapped_column(Float, index=True)
    count: Mapped[int] = mapped_column(Integer)


class SendHold(Base):
    """A provider asked every sender to wait (a 429 with a hint): nobody sends before ``until``.

    Kept beside the rate log and read by the same reservation, so every thread of every
    worker process waits, not only the one that got the answer.
    """

    __tablename__ = "send_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    until: Mapped[float] = mapped_column(Float, index=True)  # Unix time in seconds
    reason: Mapped[str] = mapped_column(Text)


class SendLock(Base):
    """The process currently sending an issue (see send_lock.py)."""

    __tablename__ = "send_locks"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssueSummary(Base):
    """What is kept of an issue whose deliveries were pruned (``pulse db prune``).

    The report's figures, worked out from the rows just before they were deleted, so the
    report reads the same afterwards; and the moment of pruning, which also stops anything
    from creating the issue's deliveries again (that would mail everyone a second time).
    """

    __tablename__ = "issue_summaries"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # IssueReport figures (see pipeline.analytics.summary) as JSON.
    figures: Mapped[str] = mapped_column(Text)
