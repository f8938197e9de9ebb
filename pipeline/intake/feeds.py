"""Quick Links from RSS/Atom feeds: fetched politely, parsed by feedparser, proposed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import feedparser
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.validate import web_url
from pipeline.errors import ValidationError
from pipeline.intake.http import FetchError, PoliteClient
from pipeline.intake.models import FeedItem, IntakeSource, ProposalState
from pipeline.intake.pay import plain_text

if TYPE_CHECKING:
    from pipeline.intake.fetch import SourceReport

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
MAX_ITEMS = 200
SUMMARY_LIMIT = 400


@dataclass(frozen=True)
class Entry:
    guid: str
    url: str
    title: str
    summary: str


@dataclass(frozen=True)
class Feed:
    entries: tuple[Entry, ...]
    skipped: int
    not_modified: bool
    etag: str | None
    last_modified: str | None


def read_feed(
    client: PoliteClient, url: str, *, etag: str | None, last_modified: str | None
) -> Feed:
    """Fetch and parse a feed; entries without a usable http(s) link or a title are skipped."""
    answer = client.get(url, etag=etag, last_modified=last_modified, accept=FEED_ACCEPT)
    if answer.not_modified:
        return Feed((), 0, True, etag, last_modified)
    # feedparser is given bytes, never the URL: it must not fetch anything itself.
    parsed = feedparser.parse(answer.body)
    raw_entries: list[Any] = list(parsed.get("entries") or [])
    if not parsed.get("version"):  # feedparser names the format it recognised; none here
        raise FetchError(url, "answer is not an RSS or Atom feed")
    entries = []
    skipped = 0
    for raw in raw_entries[:MAX_ITEMS]:
        entry = _entry(raw)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    return Feed(tuple(entries), skipped, False, answer.etag, answer.last_modified)


def _entry(raw: Any) -> Entry | None:
    link = raw.get("link")
    title = plain_text(str(raw.get("title") or ""))[:200].strip()
    if not isinstance(link, str) or not title:
        return None
    try:
        url = web_url(link, "link")
    except ValidationError:
        return None  # javascript:, data: and relative links never become Quick Links
    guid = str(raw.get("id") or url)[:500]
    summary = plain_text(str(raw.get("summary") or ""))
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return Entry(guid=guid, url=url, title=title, summary=summary)


def apply_feed(
    session: Session, source_id: int, feed: Feed, report: SourceReport, now: datetime
) -> None:
    """New entries become proposals (or, for an auto-accept feed, ready Quick Links)."""
    from pipeline.intake.review import accept_feed_item

    source = session.get(IntakeSource, source_id)
    if source is None:
        return
    source.last_fetched_at = now
    report.skipped = feed.skipped
    if feed.not_modified:
        report.not_modified = True
        source.last_result = "not modified"
        return
    source.etag, source.last_modified = feed.etag, feed.last_modified
    known = set(session.scalars(select(FeedItem.guid).where(FeedItem.source_id == source_id)))
    for entry in feed.entries:
        report.found += 1
        if entry.guid in known:
            continue
        known.add(entry.guid)
        item = FeedItem(
            source_id=source_id,
            guid=entry.guid,
            url=entry.url,
            title=entry.title,
            summary=entry.summary,
            state=ProposalState.PROPOSED,
            first_seen_at=now,
        )
        session.add(item)
        session.flush()
        report.new += 1
        if source.auto_accept:
            accept_feed_item(session, item)
    source.last_result = f"found {report.found}, new {report.new}"
