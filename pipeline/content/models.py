"""Tables for queued content."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class Section(enum.StrEnum):
    """Sections of an issue, in the order they appear."""

    EDITORS_NOTE = "editors-note"
    SALARY_PULSE = "salary-pulse"
    WHOS_HIRING = "whos-hiring"
    ROLE_INSIGHTS = "role-insights"
    QUICK_LINKS = "quick-links"

    @property
    def title(self) -> str:  # type: ignore[override]
        return SECTION_TITLES[self]


SECTION_TITLES = {
    Section.EDITORS_NOTE: "Editor's note",
    Section.SALARY_PULSE: "Salary Pulse",
    Section.WHOS_HIRING: "Who's Hiring",
    Section.ROLE_INSIGHTS: "Role Insights",
    Section.QUICK_LINKS: "Quick Links",
}


class SnippetStatus(enum.StrEnum):
    DRAFT = "draft"
    READY = "ready"
    USED = "used"


class Snippet(Base):
    """A piece of editorial content for one section."""

    __tablename__ = "snippets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[Section] = mapped_column(status_enum(Section, "snippet_section"))
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[SnippetStatus] = mapped_column(
        status_enum(SnippetStatus, "snippet_status"), index=True
    )
    target_week: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # A retired snippet is a draft taken out of the queue for good (kept for the record).
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Profile roles the snippet is for, comma-separated (subscribers.profile.ROLES); NULL:
    # everyone. A targeted snippet appears only in the variants of those roles.
    target_roles: Mapped[str | None] = mapped_column(String(200))


class PayBasis(enum.StrEnum):
    """What a pay figure measures. Figures of different bases are never pooled."""

    BASE = "base"  # base salary only
    OTE = "ote"  # on-target earnings: base plus target commission/bonus
    TOTAL = "total"  # total compensation as surveys report it (incl. equity)


class SalaryPoint(Base):
    """One observed total-compensation range for a role at a level."""

    __tablename__ = "salary_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    low: Mapped[int] = mapped_column(Integer)
    high: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(200))
    sample_size: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the range measures (see PayBasis); a Salary Pulse figure pools one basis only.
    pay_basis: Mapped[str] = mapped_column(String(5), default="total", server_default="total")
    # How many job postings the point rests on (0 for surveys and editors' figures).
    postings: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class JobListing(Base):
    """An open role someone is hiring for."""

    __tablename__ = "job_listings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    comp_low: Mapped[int | None] = mapped_column(Integer)
    comp_high: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # One listing per URL: the same job never appears in two issues.
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # Pay period of comp_low/comp_high ("year" or "hour") and, when known, "base" or "ote".
    comp_interval: Mapped[str] = mapped_column(String(5), default="year", server_default="year")
    comp_basis: Mapped[str | None] = mapped_column(String(5))
    # The day the posting behind the listing was found closed; a closed listing is not shown.
    closed_on: Mapped[date | None] = mapped_column(Date)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
