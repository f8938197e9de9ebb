"""``pulse jobs fetch``: read every source, keep the matching roles, update the review queue.

Each source is read and applied in its own transaction, so one broken board never stops
the others: its failure is recorded and reported, and the rest go on. A posting is one row
per (source, board posting id) — then per URL — however often it is fetched; a posting that
leaves its board, or whose page answers 404/410, expires and leaves every unsent issue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.content.models import JobListing
from pipeline.intake.boards import READERS, RawPosting, greenhouse_pay
from pipeline.intake.feeds import apply_feed, read_feed
from pipeline.intake.http import FetchError, PoliteClient, SourceGone
from pipeline.intake.models import IntakeSource, JobPosting, ProposalState, SourceKind
from pipeline.intake.pay import Pay, pay_from_text
from pipeline.intake.review import accept_posting, expire_posting
from pipeline.intake.roles import RoleRules, fold, is_remote, level_of, region_of
from pipeline.intake.sources import source_label
from pipeline.issues.models import Issue
from pipeline.issues.states import UNSENT
from pulse_core.database import transaction, utcnow

OPEN_STATES = (ProposalState.PROPOSED, ProposalState.ACCEPTED)


@dataclass(frozen=True)
class IntakeConfig:
    """What the intake needs from settings, and nothing else."""

    api_urls: Mapping[SourceKind, str]
    rules: RoleRules = field(default_factory=RoleRules)
    salary_role: str = "AI Sales Engineer"
    check_pages: bool = True


@dataclass
class SourceReport:
    """What one source gave this time."""

    source: str
    found: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0
    skipped: int = 0
    failed: str | None = None
    not_modified: bool = False
    weeks_to_rebuild: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "found": self.found,
            "new": self.new,
            "changed": self.changed,
            "gone": self.gone,
            "skipped": self.skipped,
            "failed": self.failed,
            "not_modified": self.not_modified,
        }


@dataclass(frozen=True)
class Parsed:
    """A raw posting with its pay, level, region and digest worked out."""

    raw: RawPosting
    digest: str
    pay: Pay | None
    pay_origin: str | None
    level: str
    region: str | None
    remote: bool


def digest_of(raw: RawPosting) -> str:
    """What an editor would call a change: title, place, text or structured pay."""
    pay = raw.pay
    parts = (
        raw.title,
        raw.location,
        raw.description,
        str(raw.remote),
        raw.country or "",
        f"{pay.low}-{pay.high}-{pay.currency}-{pay.interval}-{pay.basis}" if pay else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def parse(raw: RawPosting, pay: Pay | None) -> Parsed:
    region = region_of(raw.location, raw.country)
    origin = "board" if pay else None
    if pay is None:
        pay = pay_from_text(raw.description, dollar="USD" if region == "US" else None)
        origin = "text" if pay else None
    return Parsed(
        raw,
        digest_of(raw),
        pay,
        origin,
        level_of(raw.title),
        region,
        is_remote(raw.location, raw.remote),
    )


def fetch_all(
    sessions: sessionmaker[Session],
    config: IntakeConfig,
    client: PoliteClient,
    now: datetime | None = None,
) -> list[SourceReport]:
    """Fetch every source once; a report per source, failures included."""
    moment = now or utcnow()
    with sessions() as session:
        ids = list(session.scalars(select(IntakeSource.id).order_by(IntakeSource.id)))
    return [fetch_source(sessions, source_id, config, client, moment) for source_id in ids]


def fetch_source(
    sessions: sessionmaker[Session],
    source_id: int,
    config: IntakeConfig,
    client: PoliteClient,
    now: datetime,
) -> SourceReport:
    with sessions() as session:
        source = session.get(IntakeSource, source_id)
        if source is None:
            return SourceReport(source=f"#{source_id}", failed="removed while fetching")
        kind, board, etag, modified = source.kind, source.board, source.etag, source.last_modified
        report = SourceReport(source=source_label(source))
        rows = session.execute(
            select(JobPosting.external_id, JobPosting.digest).where(
                JobPosting.source_id == source_id
            )
        )
        known = {external_id: digest for external_id, digest in rows}
    try:
        if kind is SourceKind.FEED:
            feed = read_feed(client, board, etag=etag, last_modified=modified)
            with transaction(sessions) as session:
                apply_feed(session, source_id, feed, report, now)
            return report
        page = READERS[kind](
            client, config.api_urls[kind], board, etag=etag, last_modified=modified
        )
    except FetchError as err:
        report.failed = str(err)
        _record(sessions, source_id, now, f"failed: {err}"[:500])
        return report
    report.skipped = page.skipped
    if page.not_modified:
        report.not_modified = True
        _record(sessions, source_id, now, "not modified")
        return report
    matching = [raw for raw in page.postings if config.rules.matches(raw.title)]
    parsed = [_with_pay(client, raw, known) for raw in matching]
    try:
        with transaction(sessions) as session:
            source = session.get(IntakeSource, source_id)
            if source is None:
                report.failed = "removed while fetching"
                return report
            source.etag, source.last_modified = page.etag, page.last_modified
            apply_postings(session, source, parsed, report, now, config)
            source.last_fetched_at = now
            source.last_result = _summary(report)
    except SQLAlchemyError as err:  # e.g. another process saved the same posting first
        fresh = SourceReport(source=report.source, failed=f"not saved: {type(err).__name__}")
        _record(sessions, source_id, now, f"failed: {fresh.failed}")
        return fresh
    if config.check_pages:
        check_pages(sessions, client, source_id, report, now)
    return report


def _with_pay(client: PoliteClient, raw: RawPosting, known: Mapping[str, str]) -> Parsed:
    """Greenhouse gives pay only per job: ask for it when the posting is new or changed."""
    pay = raw.pay
    if raw.detail_url and known.get(raw.external_id) != digest_of(raw):
        try:
            pay = greenhouse_pay(client, raw.detail_url)
        except FetchError:
            pay = None  # the text may still state it
    return parse(raw, pay)


def _record(sessions: sessionmaker[Session], source_id: int, now: datetime, text: str) -> None:
    with transaction(sessions) as session:
        source = session.get(IntakeSource, source_id)
        if source is not None:
            source.last_fetched_at = now
            source.last_result = text


def _summary(report: SourceReport) -> str:
    return f"found {report.found}, new {report.new}, changed {report.changed}, gone {report.gone}"


def _fill(posting: JobPosting, item: Parsed, company: str) -> None:
    raw = item.raw
    posting.url = raw.url[:2000]
    posting.title = raw.title[:200]
    posting.company = company[:200]
    posting.location = (raw.location or ("Remote" if item.remote else "—"))[:200]
    posting.remote = item.remote
    posting.level = item.level
    posting.region = item.region
    pay = item.pay
    posting.pay_low = pay.low if pay else None
    posting.pay_high = pay.high if pay else None
    posting.pay_currency = pay.currency if pay else None
    posting.pay_interval = pay.interval if pay else None
    posting.pay_basis = pay.basis if pay else None
    posting.pay_origin = item.pay_origin
    posting.digest = item.digest


def _role_key(title: str, location: str) -> tuple[str, str]:
    return fold(title), fold(location)


def apply_postings(
    session: Session,
    source: IntakeSource,
    parsed: list[Parsed],
    report: SourceReport,
    now: datetime,
    config: IntakeConfig,
) -> None:
    """Insert new postings, update changed ones, expire those no longer on the board."""
    company = source.company or source.board
    rows = list(session.scalars(select(JobPosting).where(JobPosting.source_id == source.id)))
    by_id = {row.external_id: row for row in rows}
    by_url = {row.url: row for row in rows}
    closed_roles = {
        _role_key(row.title, row.location) for row in rows if row.state is ProposalState.EXPIRED
    }
    seen: set[int] = set()
    for item in parsed:
        raw = item.raw
        posting = by_id.get(raw.external_id) or by_url.get(raw.url)
        if posting is not None and posting.id in seen:
            continue  # the board listed the same posting twice
        report.found += 1
        if posting is None:
            posting = _new_posting(session, source, item, company, now, closed_roles)
            if posting is None:
                continue  # the same URL is already a posting of another source
            report.new += 1
            if source.auto_accept and posting.state is ProposalState.PROPOSED:
                accept_posting(session, posting, config.salary_role, now.date())
        else:
            if posting.external_id != raw.external_id:
                posting.external_id = raw.external_id[:200]
            if posting.state is ProposalState.EXPIRED:
                posting.state = ProposalState.PROPOSED  # back on the board: review it again
                posting.reposted = True
                posting.gone_at = None  # its closed listing stays linked; accepting reopens it
                report.new += 1
            elif posting.digest != item.digest:
                _fill(posting, item, company)
                _refresh_listing(session, posting)
                report.changed += 1
            posting.last_seen_at = now
        seen.add(posting.id)
    for row in rows:
        if row.id not in seen and row.state in OPEN_STATES:
            report.weeks_to_rebuild |= expire_posting(session, row, now)
            report.gone += 1
    session.flush()


def _new_posting(
    session: Session,
    source: IntakeSource,
    item: Parsed,
    company: str,
    now: datetime,
    closed_roles: set[tuple[str, str]],
) -> JobPosting | None:
    raw = item.raw
    if session.scalar(select(JobPosting.id).where(JobPosting.url == raw.url[:2000])) is not None:
        return None
    posting = JobPosting(
        source_id=source.id,
        external_id=raw.external_id[:200],
        state=ProposalState.PROPOSED,
        first_seen_at=now,
        last_seen_at=now,
        reposted=_role_key(raw.title, raw.location) in closed_roles,
    )
    _fill(posting, item, company)
    listed = session.scalar(select(JobListing).where(JobListing.url == posting.url))
    if listed is not None:  # an editor typed this job in already: it is the same listing
        posting.state = ProposalState.ACCEPTED
        posting.listing_id = listed.id
    session.add(posting)
    session.flush()
    return posting


def _refresh_listing(session: Session, posting: JobPosting) -> None:
    """A changed posting updates its listing, unless an issue already carries the listing."""
    if posting.listing_id is None:
        return
    listing = session.get(JobListing, posting.listing_id)
    if listing is None or listing.issue_id is not None:
        return
    listing.title, listing.location = posting.title, posting.location
    if posting.pay_low is not None and posting.pay_high is not None and posting.pay_currency:
        listing.comp_low, listing.comp_high = posting.pay_low, posting.pay_high
        listing.currency = posting.pay_currency
        listing.comp_interval = posting.pay_interval or "year"
        listing.comp_basis = posting.pay_basis


def check_pages(
    sessions: sessionmaker[Session],
    client: PoliteClient,
    source_id: int,
    report: SourceReport,
    now: datetime,
) -> None:
    """Expire accepted postings whose page now answers 404 or 410.

    Only listings still to be mailed are checked (not in an issue yet, or in an unsent one):
    a job already sent needs no watching, and the checks stay as few as the open listings.
    """
    with sessions() as session:
        query = (
            select(JobPosting.id, JobPosting.url)
            .join(JobListing, JobListing.id == JobPosting.listing_id)
            .outerjoin(Issue, Issue.id == JobListing.issue_id)
            .where(JobPosting.source_id == source_id)
            .where(JobPosting.state == ProposalState.ACCEPTED)
            .where(JobListing.closed_on.is_(None))
            .where(or_(JobListing.issue_id.is_(None), Issue.status.in_(UNSENT)))
        )
        live = [(posting_id, url) for posting_id, url in session.execute(query)]
    closed = []
    for posting_id, url in live:
        try:
            client.get(url, accept="text/html,*/*;q=0.8")
        except SourceGone:
            closed.append(posting_id)
        except FetchError:
            continue  # unreachable is not closed: look again next time
    if not closed:
        return
    with transaction(sessions) as session:
        for posting_id in closed:
            posting = session.get(JobPosting, posting_id)
            if posting is not None and posting.state is ProposalState.ACCEPTED:
                report.weeks_to_rebuild |= expire_posting(session, posting, now)
                report.gone += 1
