"""One JSON-ready record per posting (and per feed item) for ``--format json`` and the desk."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing
from pipeline.intake.models import FeedItem, IntakeSource, JobPosting, ProposalState
from pipeline.intake.sources import source_label

EDITOR_SOURCE = "editor"


def pay_record(
    low: int | None,
    high: int | None,
    currency: str | None,
    interval: str | None,
    basis: str | None,
) -> dict[str, Any] | None:
    if low is None or high is None or currency is None:
        return None
    return {
        "low": low,
        "high": high,
        "currency": currency,
        "interval": interval or "year",
        "basis": basis,
    }


def posting_state(posting: JobPosting, listing: JobListing | None, today: date) -> str:
    """proposed, rejected, live or expired (accepted and still open is ``live``)."""
    if posting.state is ProposalState.ACCEPTED:
        return "live" if listing is None or listing_is_live(listing, today) else "expired"
    return posting.state.value


def listing_is_live(listing: JobListing, today: date) -> bool:
    if listing.closed_on is not None:
        return False
    return listing.expires_on is None or listing.expires_on >= today


def posting_record(
    posting: JobPosting, source: IntakeSource | None, listing: JobListing | None, today: date
) -> dict[str, Any]:
    return {
        "id": str(posting.id),
        "kind": "job",
        "title": posting.title,
        "company": posting.company,
        "location": posting.location,
        "remote": posting.remote,
        "url": posting.url,
        "source": source_label(source) if source else EDITOR_SOURCE,
        "state": posting_state(posting, listing, today),
        "reposted": posting.reposted,
        "level": posting.level,
        "region": posting.region,
        "pay": pay_record(
            posting.pay_low,
            posting.pay_high,
            posting.pay_currency,
            posting.pay_interval,
            posting.pay_basis,
        ),
        "pay_from": posting.pay_origin,
        "listing_id": posting.listing_id,
        "first_seen": posting.first_seen_at.isoformat(),
        "last_seen": posting.last_seen_at.isoformat(),
    }


def listing_record(listing: JobListing, today: date) -> dict[str, Any]:
    """A listing an editor typed in (no posting behind it)."""
    return {
        "id": f"listing-{listing.id}",
        "kind": "job",
        "title": listing.title,
        "company": listing.company,
        "location": listing.location,
        "remote": listing.remote,
        "url": listing.url,
        "source": EDITOR_SOURCE,
        "state": "live" if listing_is_live(listing, today) else "expired",
        "reposted": False,
        "level": None,
        "region": None,
        "pay": pay_record(
            listing.comp_low,
            listing.comp_high,
            listing.currency,
            listing.comp_interval,
            listing.comp_basis,
        ),
        "pay_from": EDITOR_SOURCE if listing.comp_low is not None else None,
        "listing_id": listing.id,
        "first_seen": listing.created_at.isoformat(),
        "last_seen": None,
    }


def item_record(item: FeedItem, source: IntakeSource | None) -> dict[str, Any]:
    return {
        "id": f"L{item.id}",
        "kind": "link",
        "title": item.title,
        "company": None,
        "location": None,
        "url": item.url,
        "source": source_label(source) if source else EDITOR_SOURCE,
        "state": item.state.value,
        "summary": item.summary,
        "pay": None,
        "first_seen": item.first_seen_at.isoformat(),
    }


def _context(session: Session) -> tuple[dict[int, IntakeSource], dict[int, JobListing]]:
    sources = {s.id: s for s in session.scalars(select(IntakeSource))}
    listings = {j.id: j for j in session.scalars(select(JobListing))}
    return sources, listings


def review_records(session: Session, today: date) -> list[dict[str, Any]]:
    """The open proposals: job postings first, then feed items, oldest first."""
    sources, _listings = _context(session)
    postings = session.scalars(
        select(JobPosting).where(JobPosting.state == ProposalState.PROPOSED).order_by(JobPosting.id)
    )
    items = session.scalars(
        select(FeedItem).where(FeedItem.state == ProposalState.PROPOSED).order_by(FeedItem.id)
    )
    records = [posting_record(p, sources.get(p.source_id), None, today) for p in postings]
    return records + [item_record(i, sources.get(i.source_id)) for i in items]


def job_records(session: Session, today: date) -> list[dict[str, Any]]:
    """Every job: each fetched posting (any state), then listings typed in by editors."""
    sources, listings = _context(session)
    postings = list(session.scalars(select(JobPosting).order_by(JobPosting.id)))
    records = [
        posting_record(p, sources.get(p.source_id), listings.get(p.listing_id or 0), today)
        for p in postings
    ]
    linked = {p.listing_id for p in postings if p.listing_id is not None}
    records += [
        listing_record(j, today)
        for j in sorted(listings.values(), key=lambda j: j.id)
        if j.id not in linked
    ]
    return records
