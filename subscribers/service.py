"""Adding, importing and listing subscribers."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.addresses import email_key, normalise_email
from subscribers.database import utcnow
from subscribers.errors import ImportFileError, ValidationError
from subscribers.models import Subscriber, SubscriberStatus

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class NewSubscriber:
    """A validated address with the consent under which it joins."""

    email: str
    first_name: str | None


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    added: int
    already_present: int
    duplicates_in_file: int


def clean_first_name(raw: str | None, *, field: str = "first_name") -> str | None:
    """Strip a first name; reject control characters and overlong values."""
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError(field, "must not contain control characters")
    return name


def add_subscriber(
    session: Session,
    email: str,
    *,
    first_name: str | None = None,
    consent_text: str,
    consent_source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> tuple[Subscriber, bool]:
    """Add one subscriber; returns the row and whether it was new."""
    if not consent_text.strip():
        raise ValidationError("consent", "a consent text is required")
    address = normalise_email(email)
    name = clean_first_name(first_name)
    existing = session.scalar(select(Subscriber).where(Subscriber.email_key == email_key(address)))
    if existing is not None:
        return existing, False
    subscriber = _new_row(address, name, status, consent_text, consent_source)
    session.add(subscriber)
    session.flush()
    return subscriber, True


def _new_row(
    address: str,
    name: str | None,
    status: SubscriberStatus,
    consent_text: str,
    consent_source: str,
) -> Subscriber:
    now = utcnow()
    return Subscriber(
        email=address,
        email_key=email_key(address),
        first_name=name,
        status=status,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
        consent_text=consent_text,
        consent_at=now,
        consent_source=consent_source,
    )


def read_subscriber_csv(stream: TextIO) -> Iterator[tuple[int, NewSubscriber]]:
    """Yield (line number, subscriber) for each row; raise on the first bad line."""
    reader = csv.DictReader(stream)
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in fields:
        raise ImportFileError(1, "email", "the header row must have an 'email' column")
    reader.fieldnames = fields
    for row in reader:
        line = reader.line_num
        if None in row:
            raise ImportFileError(line, "row", "has more cells than the header")
        try:
            address = normalise_email(row.get("email") or "")
            name = clean_first_name(row.get("first_name"))
        except ValidationError as err:
            raise ImportFileError(line, err.field, err.message) from err
        yield line, NewSubscriber(address, name)


def import_subscribers(
    session: Session,
    rows: Iterable[tuple[int, NewSubscriber]],
    *,
    consent_text: str,
    consent_source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    chunk_size: int = 1000,
) -> ImportSummary:
    """Insert new addresses in chunks inside the caller's transaction (all or nothing)."""
    if not consent_text.strip():
        raise ValidationError("consent", "a consent text is required")
    added = present = duplicates = 0
    seen: set[str] = set()
    chunk: dict[str, NewSubscriber] = {}

    def flush_chunk() -> None:
        nonlocal added, present
        existing = set(
            session.scalars(select(Subscriber.email_key).where(Subscriber.email_key.in_(chunk)))
        )
        present += len(existing)
        fresh = [
            _new_row(new.email, new.first_name, status, consent_text, consent_source)
            for key, new in chunk.items()
            if key not in existing
        ]
        session.add_all(fresh)
        session.flush()
        added += len(fresh)
        chunk.clear()

    for _line, new in rows:
        key = email_key(new.email)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        chunk[key] = new
        if len(chunk) >= chunk_size:
            flush_chunk()
    if chunk:
        flush_chunk()
    return ImportSummary(added=added, already_present=present, duplicates_in_file=duplicates)


def list_subscribers(
    session: Session, *, status: SubscriberStatus | None = None, limit: int = 100
) -> list[Subscriber]:
    """Subscribers, newest first."""
    query = select(Subscriber).order_by(Subscriber.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Subscriber.status == status)
    return list(session.scalars(query))


def count_by_status(session: Session) -> dict[SubscriberStatus, int]:
    """How many subscribers are in each status."""
    rows = session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ).all()
    return {status: count for status, count in rows}
