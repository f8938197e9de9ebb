"""Tables of the intake: where postings come from, the postings, and feed items.

A fetched posting is a *proposal* until an editor accepts it; accepting makes a
:class:`~pipeline.content.models.JobListing` (and, with a yearly pay range, a salary data
point). Postings are keyed by (source, the board's posting id) so a posting is one row
however often it is fetched.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class SourceKind(enum.StrEnum):
    """A job board API, or an RSS/Atom feed of links."""

    GREENHOUSE = "greenhouse"
    LEVER = "lever"
    ASHBY = "ashby"
    FEED = "feed"


BOARD_KINDS = (SourceKind.GREENHOUSE, SourceKind.LEVER, SourceKind.ASHBY)


class ProposalState(enum.StrEnum):
    """Where a fetched item stands in the review queue."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


class IntakeSource(Base):
    """A board (kind + board token) or a feed (kind ``feed`` + its URL)."""

    __tablename__ = "intake_sources"
    __table_args__ = (UniqueConstraint("kind", "board"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(status_enum(SourceKind, "intake_source_kind"))
    board: Mapped[str] = mapped_column(String(2000))
    company: Mapped[str | None] = mapped_column(String(200))
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=False)
    # Validators from the last answer, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobPosting(Base):
    """One posting on one board, as last fetched, with its parsed pay, level and region."""

    __tablename__ = "job_postings"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("intake_sources.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000), index=True)
    title: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[str] = mapped_column(String(50))
    region: Mapped[str | None] = mapped_column(String(100))
    pay_low: Mapped[int | None] = mapped_column(Integer)
    pay_high: Mapped[int | None] = mapped_column(Integer)
    pay_currency: Mapped[str | None] = mapped_column(String(3))
    pay_interval: Mapped[str | None] = mapped_column(String(5))
    pay_basis: Mapped[str | None] = mapped_column(String(5))
    pay_origin: Mapped[str | None] = mapped_column(String(10))  # "board" or "text"
    # A digest of what an editor sees, so a changed posting is told apart from a re-fetch.
    digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[ProposalState] = mapped_column(
        status_enum(ProposalState, "proposal_state"), index=True
    )
    reposted: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_listings.id", ondelete="SET NULL"), index=True
    )
    salary_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("salary_points.id", ondelete="SET NULL")
    )


class FeedItem(Base):
    """One entry of a feed: a Quick Links proposal until accepted or rejected."""

    __tablename__ = "feed_items"
    __table_args__ = (UniqueConstraint("source_id", "guid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("intake_sources.id", ondelete="CASCADE"), index=True
    )
    guid: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ProposalState] = mapped_column(
        status_enum(ProposalState, "feed_item_state"), index=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    snippet_id: Mapped[int | None] = mapped_column(ForeignKey("snippets.id", ondelete="SET NULL"))
