"""Importing subscribers from a file, the same on the CLI and the desk.

The file is our own CSV (``email``, ``first_name``) or another platform's export
(:mod:`subscribers.platforms`): Mailchimp, Substack, beehiiv, Kit, Ghost or listmonk. Either
way it is read as a stream and applied in one transaction, all or nothing
(:func:`subscribers.importer.import_subscribers`): people who left the old platform are
suppressed and never mailed, the others become active under the consent text the operator
vouches for, dated from their original signup where the export gives it, with the
platform and file in ``consent_source`` (or pending, and asked to confirm, with
``require_confirmation``). A dry run reads and counts the same and writes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy.orm import Session

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.importer import ImportSummary, import_subscribers, read_subscriber_csv
from subscribers.models import SubscriberStatus
from subscribers.platforms import reader_for
from subscribers.platforms.files import Row
from subscribers.signup import request_confirmation

MAX_SOURCE = 200
Watch = Callable[[Iterator[Row]], Iterator[Row]]


@dataclass(frozen=True)
class ImportRequest:
    """What to import and how; ``front`` ("cli", "desk") and the file name go in the record."""

    filename: str
    consent_text: str
    front: str
    platform: str | None = None  # None: our own CSV
    require_confirmation: bool = False
    skip_invalid: bool = False
    dry_run: bool = False

    @property
    def consent_source(self) -> str:
        via = f"{self.platform.lower()}:" if self.platform else ""
        return f"{self.front}:import:{via}{self.filename}"[:MAX_SOURCE]


@dataclass(frozen=True)
class ImportResult:
    summary: ImportSummary
    confirmations_sent: int = 0


def import_file(
    pulse: Pulse, stream: IO[bytes], request: ImportRequest, *, watch: Watch | None = None
) -> ImportResult:
    """Import ``stream`` (binary, seekable); ``watch`` sees every row go by (progress)."""
    rows = _rows(pulse, stream, request)
    if watch is not None:
        rows = watch(rows)
    status = SubscriberStatus.PENDING if request.require_confirmation else SubscriberStatus.ACTIVE
    ctx = pulse.subscribers

    def apply(session: Session) -> ImportSummary:
        return import_subscribers(
            session,
            rows,
            consent_text=request.consent_text,
            consent_source=request.consent_source,
            status=status,
            hash_keys=ctx.hash_keys,
            skip_invalid=request.skip_invalid,
            collect_ids=request.require_confirmation,
            leaving=ctx.leaving,
            dry_run=request.dry_run,
        )

    if request.dry_run:
        with pulse.db.sessions() as session:
            summary = apply(session)
            session.rollback()  # nothing was written; nothing may be, whatever happened
        return ImportResult(summary)
    with transaction(pulse.db.sessions) as session:
        summary = apply(session)
    sent = 0
    if request.require_confirmation:
        sent = sum(request_confirmation(ctx, i) for i in summary.added_ids)
    return ImportResult(summary, sent)


def _rows(pulse: Pulse, stream: IO[bytes], request: ImportRequest) -> Iterator[Row]:
    check = pulse.settings.check_deliverability
    if request.platform is None:
        return _our_csv(stream, check)
    return reader_for(request.platform)(stream, request.filename, check)


def _our_csv(stream: IO[bytes], check_deliverability: bool) -> Iterator[Row]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from read_subscriber_csv(text, check_deliverability=check_deliverability)
    finally:
        text.detach()  # the caller owns the stream
