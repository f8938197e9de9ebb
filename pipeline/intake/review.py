"""The review queue: editors accept or reject fetched postings and feed items.

Accepting a posting makes a Who's Hiring listing and, when its pay is a yearly range in a
known region, one salary data point (source "job postings", one posting behind it).
Accepting a feed item makes a ready Quick Links snippet. Queue ids are the posting's number
(``12``) or, for feed items, ``L`` and the item's number (``L3``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, SalaryPoint, Section, Snippet, SnippetStatus
from pipeline.errors import NotFoundError, ValidationError
from pipeline.intake.models import FeedItem, JobPosting, ProposalState
from pipeline.issues.models import Issue
from pipeline.issues.states import UNSENT

SALARY_SOURCE = "job postings"
# Issues not yet sending: a closed job must leave them (they are rebuilt).


@dataclass(frozen=True)
class QueueId:
    """A review queue id: a job posting (``12``) or a feed item (``L3``)."""

    kind: str  # "job" or "link"
    number: int

    @classmethod
    def parse(cls, value: str) -> QueueId:
        text = value.strip().upper()
        kind, digits = ("link", text[1:]) if text.startswith("L") else ("job", text)
        if kind == "job" and digits.startswith("J"):
            digits = digits[1:]
        if not digits.isdigit() or len(digits) > 12:
            raise ValidationError("id", f"{value!r} is not a review id such as 12 or L3")
        return cls(kind, int(digits))

    def __str__(self) -> str:
        return f"L{self.number}" if self.kind == "link" else str(self.number)


def accept_posting(session: Session, posting: JobPosting, role: str, today: date) -> JobListing:
    """Make the posting a listing (and a salary point when its pay allows); idempotent."""
    if posting.state is ProposalState.EXPIRED:
        raise ValidationError("id", f"posting {posting.id} has closed and cannot be listed")
    listing = session.get(JobListing, posting.listing_id) if posting.listing_id else None
    if listing is None:
        listing = session.scalar(select(JobListing).where(JobListing.url == posting.url))
    if listing is not None and listing.closed_on is not None and listing.issue_id is None:
        listing.closed_on = None  # the job is open again and was never mailed: list it again
    if listing is None:
        listing = JobListing(
            company=posting.company,
            title=posting.title,
            location=posting.location,
            remote=posting.remote,
            url=posting.url,
        )
        if posting.pay_low is not None and posting.pay_currency:
            listing.comp_low, listing.comp_high = posting.pay_low, posting.pay_high
            listing.currency = posting.pay_currency
            listing.comp_interval = posting.pay_interval or "year"
            listing.comp_basis = posting.pay_basis
        session.add(listing)
        session.flush()
    posting.listing_id = listing.id
    posting.state = ProposalState.ACCEPTED
    if posting.salary_point_id is None:
        point = salary_point_of(posting, role)
        if point is not None:
            session.add(point)
            session.flush()
            posting.salary_point_id = point.id
    return listing


def salary_point_of(posting: JobPosting, role: str) -> SalaryPoint | None:
    """One data point from a posting's yearly pay; none for hourly pay or an unknown region."""
    if (
        posting.pay_low is None
        or posting.pay_high is None
        or posting.pay_currency is None
        or posting.pay_interval != "year"
        or posting.region is None
        or posting.pay_basis not in ("base", "ote")
    ):
        return None
    return SalaryPoint(
        role=role,
        level=posting.level,
        currency=posting.pay_currency,
        low=posting.pay_low,
        high=posting.pay_high,
        region=posting.region,
        source=SALARY_SOURCE,
        sample_size=1,
        postings=1,
        pay_basis=posting.pay_basis,
        as_of=posting.last_seen_at.date(),
    )


def expire_posting(session: Session, posting: JobPosting, now: datetime) -> set[str]:
    """Close a posting; its listing leaves every unsent issue. Returns those issues' weeks."""
    posting.state = ProposalState.EXPIRED
    posting.gone_at = now
    weeks: set[str] = set()
    if posting.listing_id is None:
        return weeks
    listing = session.get(JobListing, posting.listing_id)
    if listing is None:
        return weeks
    listing.closed_on = now.date()
    if listing.issue_id is not None:
        issue = session.get(Issue, listing.issue_id)
        if issue is not None and issue.status in UNSENT:
            listing.issue_id = None
            weeks.add(issue.week_key)
    return weeks


def accept_feed_item(session: Session, item: FeedItem) -> Snippet:
    if item.snippet_id is not None:
        snippet = session.get(Snippet, item.snippet_id)
        if snippet is not None:
            return snippet
    snippet = Snippet(
        section=Section.QUICK_LINKS,
        title=item.title,
        body_md=item.summary,
        link=item.url,
        status=SnippetStatus.READY,
    )
    session.add(snippet)
    session.flush()
    item.snippet_id = snippet.id
    item.state = ProposalState.ACCEPTED
    return snippet


def _load(session: Session, queue_id: QueueId) -> JobPosting | FeedItem:
    row: JobPosting | FeedItem | None
    if queue_id.kind == "job":
        row = session.get(JobPosting, queue_id.number)
    else:
        row = session.get(FeedItem, queue_id.number)
    if row is None:
        raise NotFoundError(f"no review item {queue_id}")
    return row


def accept(session: Session, ids: Iterable[str], *, role: str, today: date) -> list[QueueId]:
    """Accept each id (all or nothing: one bad id changes nothing)."""
    done = []
    for value in ids:
        queue_id = QueueId.parse(value)
        row = _load(session, queue_id)
        if row.state is ProposalState.REJECTED or row.state is ProposalState.PROPOSED:
            if isinstance(row, JobPosting):
                accept_posting(session, row, role, today)
            else:
                accept_feed_item(session, row)
        elif row.state is ProposalState.EXPIRED:
            raise ValidationError("id", f"{queue_id} has closed and cannot be accepted")
        done.append(queue_id)
    return done


def accept_all(session: Session, *, role: str, today: date) -> list[QueueId]:
    """Accept every open proposal, jobs and links."""
    ids = [
        str(i)
        for i in session.scalars(
            select(JobPosting.id)
            .where(JobPosting.state == ProposalState.PROPOSED)
            .order_by(JobPosting.id)
        )
    ]
    ids += [
        f"L{i}"
        for i in session.scalars(
            select(FeedItem.id)
            .where(FeedItem.state == ProposalState.PROPOSED)
            .order_by(FeedItem.id)
        )
    ]
    return accept(session, ids, role=role, today=today)


def reject(session: Session, ids: Iterable[str]) -> list[QueueId]:
    """Reject proposals; an accepted one must be taken off its listing by an editor instead."""
    done = []
    for value in ids:
        queue_id = QueueId.parse(value)
        row = _load(session, queue_id)
        if row.state is ProposalState.ACCEPTED:
            raise ValidationError(
                "id", f"{queue_id} is already accepted; remove its job listing or snippet instead"
            )
        if row.state is ProposalState.PROPOSED:
            row.state = ProposalState.REJECTED
        done.append(queue_id)
    return done
