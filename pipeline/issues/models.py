"""The issues table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class IssueStatus(enum.StrEnum):
    """Lifecycle of one week's issue."""

    BUILT = "built"
    HELD = "held"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    SKIPPED = "skipped"


class Issue(Base):
    """One week's issue, rendered once and kept as sent."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_key: Mapped[str] = mapped_column(String(8), unique=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    preheader: Mapped[str] = mapped_column(String(300))
    status: Mapped[IssueStatus] = mapped_column(status_enum(IssueStatus, "issue_status"))
    mjml: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the send engine paused the send (the circuit breaker, a provider's refusal).
    pause_reason: Mapped[str | None] = mapped_column(Text)
    # The decision that set the status (states.Decision: hold, skip, approve, …) and why.
    status_decision: Mapped[str | None] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # An editor's "send now": the scheduler or a worker starts the send at its next poll.
    send_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The assembled IssueView as JSON: the web archive and salary downloads read it.
    view_json: Mapped[str | None] = mapped_column(Text)
    # Set by an editor's approval on the desk (issue 8); cleared when the issue is rebuilt.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(320))
    # Set when an editor (or the scheduler) discards the week: who, and when; why is in
    # status_reason. A discarded issue is skipped and its content goes back to the queue.
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discarded_by: Mapped[str | None] = mapped_column(String(320))
    # The issue's links numbered at render time (pipeline/issues/links.py), as JSON.
    links_json: Mapped[str | None] = mapped_column(Text)


class IssueVariant(Base):
    """One tailored variant of an issue (pipeline/issues/variants.py), rendered once at build.

    The default issue is the issue's own ``html``/``text``; a variant row exists only for a
    profile combination that changes what the issue says and that enough readers share.
    """

    __tablename__ = "issue_variants"
    __table_args__ = (UniqueConstraint("issue_id", "key", name="uq_issue_variants_issue_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # ``level=senior,region=US``: the fields set, in VARIANT_FIELDS order.
    key: Mapped[str] = mapped_column(String(80))
    level: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(2))
    role: Mapped[str | None] = mapped_column(String(30))
    # Readers are matched to variants in rank order (most specific first), first match wins.
    rank: Mapped[int] = mapped_column(Integer)
    # How many readers the build counted for it.
    readers: Mapped[int] = mapped_column(Integer)
    mjml: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
