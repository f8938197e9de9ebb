"""Importing subscribers from CSV: streamed, merged, suppression-aware, all or nothing.

Rows are validated one by one as the file is read and inserted in chunks with one
multi-row INSERT each, inside the caller's transaction: a fatal error (or, unless the
caller allows skipping, any invalid line) rolls the whole file back.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from pulse_core.database import utcnow
from pulse_core.errors import ImportFileError, PulseError, ValidationError
from subscribers.addresses import email_key, normalise_email
from subscribers.departures import LEFT, DepartureCounts, Standing, apply_departures
from subscribers.fields import clean_first_name
from subscribers.history import SubscriberChange
from subscribers.leaving import LeavingRules
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.profile import NO_PROFILE, Profile, clean_profile
from subscribers.suppression import suppressed_among

MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class NewSubscriber:
    """A validated address, optional first name and optional profile from one line."""

    email: str
    first_name: str | None
    # From another platform's export (subscribers.platforms): where they stood there, when
    # they signed up there.
    standing: Standing = Standing.SUBSCRIBED
    signed_up_at: datetime | None = None
    profile: Profile = NO_PROFILE


@dataclass(frozen=True)
class LineError:
    """Why one line of the file was not imported."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class ImportSummary(DepartureCounts):
    """What an import did (or would have done)."""

    added: int = 0
    already_present: int = 0
    duplicates_in_file: int = 0
    suppressed: int = 0
    invalid: int = 0
    errors: list[LineError] = field(default_factory=list)  # the first few, for the report
    added_ids: list[int] = field(default_factory=list)  # only when asked for
    unconfirmed: int = 0  # never confirmed on the old platform: skipped
    gone: int = 0  # deleted or disabled on the old platform: skipped

    def describe(self) -> str:
        text = (
            f"imported {self.added} new, {self.already_present} already present, "
            f"{self.duplicates_in_file} duplicates in the file, {self.suppressed} suppressed "
            f"(skipped), {self.invalid} invalid lines"
        )
        more = (
            (self.suppressed_new, "new suppressed (left the old platform)"),
            (self.left, "taken off the list (left the old platform)"),
            (self.already_suppressed, "left the old platform, already off the list"),
            (self.unconfirmed, "unconfirmed on the old platform (skipped)"),
            (self.gone, "deleted or disabled on the old platform (skipped)"),
        )
        return text + "".join(f", {count} {label}" for count, label in more if count)


class ImportRejected(PulseError):
    """Some lines were invalid, so nothing from the file was kept."""

    def __init__(self, summary: ImportSummary) -> None:
        lines = "\n".join(str(error) for error in summary.errors)
        more = summary.invalid - len(summary.errors)
        tail = f"\n… and {more} more" if more > 0 else ""
        super().__init__(
            f"{summary.invalid} invalid line(s); nothing was imported "
            f"(use --skip-invalid to import the rest):\n{lines}{tail}"
        )
        self.summary = summary


# Headers as spreadsheets write them ("First Name", "E-mail") and the names we read.
HEADER_ALIASES = {
    "firstname": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "e_mail": "email",
    "email_address": "email",
    "time_zone": "timezone",
}


def header_name(raw: str) -> str:
    """``"\ufeffFirst Name "`` → ``first_name``: Excel's UTF-8 BOM, case and spacing ignored."""
    name = "_".join(raw.lstrip("\ufeff").strip().lower().replace("-", " ").split())
    return HEADER_ALIASES.get(name, name)


def read_subscriber_csv(
    stream: TextIO, *, check_deliverability: bool = False
) -> Iterator[tuple[int, NewSubscriber | LineError]]:
    """Yield (line number, subscriber or error) per row; structural problems are fatal."""
    reader = csv.DictReader(stream)
    try:
        fields = [header_name(name) for name in reader.fieldnames or []]
    except UnicodeDecodeError as err:
        raise _not_utf8(err) from err
    except csv.Error as err:
        raise ImportFileError(1, "file", f"is not readable CSV ({err})") from err
    if "email" not in fields:
        raise ImportFileError(1, "email", "the header row must have an 'email' column")
    reader.fieldnames = fields
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as err:
            raise _not_utf8(err) from err
        except csv.Error as err:
            raise ImportFileError(reader.line_num + 1, "file", f"unreadable ({err})") from err
        line = reader.line_num
        if None in row:
            yield line, LineError(line, "row", "has more cells than the header")
            continue
        try:
            address = normalise_email(
                row.get("email") or "", check_deliverability=check_deliverability
            )
            name = clean_first_name(row.get("first_name"))
            profile = clean_profile(row)
        except ValidationError as err:
            yield line, LineError(line, err.field, err.message)
            continue
        yield line, NewSubscriber(address, name, profile=profile)


def _not_utf8(err: UnicodeDecodeError) -> ValidationError:
    # Decoding happens a buffer at a time, so the line is unknown; the byte is not.
    return ValidationError("file", f"is not UTF-8 text ({err.reason} near byte {err.start})")


def import_subscribers(
    session: Session,
    rows: Iterable[tuple[int, NewSubscriber | LineError]],
    *,
    consent_text: str,
    consent_source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    hash_keys: Sequence[str] = (),
    skip_invalid: bool = False,
    collect_ids: bool = False,
    chunk_size: int = 2000,
    leaving: LeavingRules | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Insert the new, unsuppressed addresses of ``rows`` inside the caller's transaction.

    Raises :class:`ImportRejected` after reading everything if a line was invalid and
    ``skip_invalid`` is false; the caller's rollback then undoes the chunks written so far.
    Lines of people who left the old platform go to :mod:`subscribers.departures` (with
    ``leaving``). ``dry_run`` reads and counts the same but writes nothing.
    """
    if not consent_text.strip():
        raise ValidationError("consent", "a consent text is required")
    summary = ImportSummary()
    seen: set[str] = set()
    chunk: dict[str, NewSubscriber] = {}

    def flush() -> None:  # writes and empties the chunk
        _flush(
            session,
            chunk,
            summary,
            status,
            consent_text,
            consent_source,
            hash_keys,
            collect_ids,
            leaving,
            dry_run,
        )

    for _line, item in rows:
        if isinstance(item, LineError):
            summary.invalid += 1
            if len(summary.errors) < MAX_REPORTED_ERRORS:
                summary.errors.append(item)
            continue
        key = email_key(item.email)
        if key in seen:
            summary.duplicates_in_file += 1
            continue
        seen.add(key)
        if item.standing is Standing.GONE:
            summary.gone += 1
            continue
        if item.standing is Standing.UNCONFIRMED and status is not SubscriberStatus.PENDING:
            summary.unconfirmed += 1
            continue
        chunk[key] = item
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    if summary.invalid and not skip_invalid:
        raise ImportRejected(summary)
    return summary


def _flush(
    session: Session,
    chunk: dict[str, NewSubscriber],
    summary: ImportSummary,
    status: SubscriberStatus,
    consent_text: str,
    consent_source: str,
    hash_keys: Sequence[str],
    collect_ids: bool,
    leaving: LeavingRules | None = None,
    dry_run: bool = False,
) -> None:
    found = session.execute(
        select(Subscriber.email_key, Subscriber.status).where(Subscriber.email_key.in_(chunk))
    )
    existing = {key: state for key, state in found}
    leavers = {k: (new.email, new.standing) for k, new in chunk.items() if new.standing in LEFT}
    if leavers:
        apply_departures(
            session, leavers, existing, summary, hash_keys=hash_keys, leaving=leaving,
            detail=consent_source, dry_run=dry_run,
        )  # fmt: skip
    summary.already_present += sum(1 for key in existing if key not in leavers)
    fresh = [new for key, new in chunk.items() if key not in existing and key not in leavers]
    chunk.clear()
    if hash_keys and fresh:
        blocked = suppressed_among(session, [new.email for new in fresh], hash_keys)
        summary.suppressed += len(blocked)
        fresh = [new for new in fresh if new.email not in blocked]
    if dry_run:
        summary.added += len(fresh)
        return
    if not fresh:
        return
    now = utcnow()
    values: list[dict[str, Any]] = [
        {
            "email": new.email,
            "email_key": email_key(new.email),
            "first_name": new.first_name,
            "status": status,
            "created_at": now,
            "updated_at": now,
            "confirmed_at": now if status is SubscriberStatus.ACTIVE else None,
            "consent_text": consent_text,
            # When they agreed: at signup on the old platform where the file says so.
            "consent_at": min(new.signed_up_at, now) if new.signed_up_at else now,
            "consent_source": consent_source,
            **new.profile.as_dict(),
        }
        for new in fresh
    ]
    # Core executemany without RETURNING: the driver's fast path (ORM objects, or RETURNING
    # through "insertmanyvalues", cost several times more). The ids come back in one query.
    session.execute(insert(cast(Table, Subscriber.__table__)), values)
    ids = list(
        session.scalars(
            select(Subscriber.id).where(Subscriber.email_key.in_([v["email_key"] for v in values]))
        )
    )
    session.execute(
        insert(cast(Table, SubscriberChange.__table__)),
        [
            {
                "subscriber_id": i,
                "at": now,
                "from_status": None,
                "to_status": status,
                "cause": "import",
                "detail": consent_source,
            }
            for i in ids
        ],
    )
    summary.added += len(ids)
    if collect_ids:
        summary.added_ids.extend(ids)
