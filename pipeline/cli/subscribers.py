"""``pulse subscribers``: the list, from the operator's side."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, errors, new_app, pulse
from pipeline.cli.content import read_csv_path
from pipeline.cli.progress import ReadProgress
from pipeline.errors import ValidationError
from pipeline.workflow.imports import ImportRequest, import_file
from pulse_core.database import transaction, utcnow
from subscribers import service
from subscribers.models import SubscriberStatus
from subscribers.platforms import PLATFORMS, reader_for
from subscribers.platforms.files import Row
from subscribers.privacy import erase, find_by_email, subscriber_record, write_export_csv
from subscribers.profile import LEVELS, PROFILE_FIELDS, REGIONS, ROLES, clean_profile
from subscribers.segments import parse_segment, segment_counts
from subscribers.signup import request_confirmation

app = new_app("Subscribers.")

ConsentOption = Annotated[
    str, typer.Option(help="the consent text these people agreed to (you vouch for it)")
]
RequireConfirmation = Annotated[
    bool,
    typer.Option(
        "--require-confirmation",
        help="add as pending and email each a confirmation link instead of activating",
    ),
]


@app.command("add")
def add(
    email: Annotated[str, typer.Argument()],
    consent: ConsentOption,
    name: Annotated[str | None, typer.Option("--name", help="first name")] = None,
    require_confirmation: RequireConfirmation = False,
    role: Annotated[str | None, typer.Option(help=f"one of {', '.join(ROLES)}")] = None,
    level: Annotated[str | None, typer.Option(help=f"one of {', '.join(LEVELS)}")] = None,
    region: Annotated[
        str | None, typer.Option(help=f"where they work: {', '.join(REGIONS)}")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA name such as Europe/London (else PULSE_TIMEZONE)")
    ] = None,
) -> None:
    """Add one subscriber (active, or pending with --require-confirmation).

    Profile options given for a known address set those fields on it.
    """
    profile = clean_profile({"role": role, "level": level, "region": region, "timezone": timezone})
    wiring = pulse()
    status = SubscriberStatus.PENDING if require_confirmation else SubscriberStatus.ACTIVE
    with transaction(wiring.db.sessions) as session:
        subscriber, created = service.add_subscriber(
            session,
            email,
            first_name=name,
            consent_text=consent,
            consent_source="cli:add",
            status=status,
            hash_keys=wiring.subscribers.hash_keys,
            profile=profile,
        )
        verb = "added" if created else "already present:"
        console.print(f"{verb} {subscriber.email} ({subscriber.status.value})")
        subscriber_id = subscriber.id
    if created and require_confirmation:
        sent = request_confirmation(wiring.subscribers, subscriber_id)
        console.print("confirmation sent" if sent else "confirmation throttled (sent recently)")


PLATFORM_HELP = "the platform the export comes from: " + ", ".join(PLATFORMS)
# Files past this size, and zips, get a progress bar (off a terminal, a line every few seconds).
LARGE_FILE_BYTES = 1_000_000
PROGRESS_EVERY_ROWS = 500
PROGRESS_INTERVAL = 5.0  # seconds between lines when not on a terminal


@app.command("import")
def import_csv(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV with an 'email' column (and first_name, role, level, region, timezone),"
            " or another platform's export (--from)"
        ),
    ],
    consent: ConsentOption,
    platform: Annotated[str | None, typer.Option("--from", help=PLATFORM_HELP)] = None,
    require_confirmation: RequireConfirmation = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="import the valid lines, report the others")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would happen; change nothing")
    ] = False,
) -> None:
    """Import subscribers from CSV or another platform's export, streamed, all or nothing.

    Suppressed addresses are skipped; people who unsubscribed, bounced or complained on
    the old platform are imported suppressed and never mailed. Without --skip-invalid any
    bad line aborts the whole file (nothing is kept).
    """
    wiring = pulse()
    read_csv_path(path)
    if platform is not None:
        reader_for(platform)  # a wrong name is refused before the file is read
    request = ImportRequest(
        filename=path.name,
        consent_text=consent,
        front="cli",
        platform=platform,
        require_confirmation=require_confirmation,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
    )
    size = path.stat().st_size
    with (
        path.open("rb") as stream,
        ReadProgress(console, path.name, size, interval=PROGRESS_INTERVAL)
        if size > LARGE_FILE_BYTES or path.suffix.lower() == ".zip"  # zips unpack 5-20x
        else nullcontext() as progress,
    ):

        def watch(rows: Iterator[Row]) -> Iterator[Row]:
            for count, row in enumerate(rows, 1):
                if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
                    progress(stream.tell(), count)
                yield row

        result = import_file(wiring, stream, request, watch=watch)
    summary = result.summary
    for error in summary.errors:
        errors.print(f"skipped {error}", markup=False)
    prefix = "dry run, nothing changed: would have " if dry_run else ""
    console.print(prefix + summary.describe(), markup=False, soft_wrap=True)
    if require_confirmation and not dry_run:
        console.print(f"confirmations sent: {result.confirmations_sent}")


@app.command("export")
def export(
    email: Annotated[str | None, typer.Argument(help="one address (JSON); omit for CSV")] = None,
    segment: Annotated[
        str | None,
        typer.Option(help="only this segment, e.g. role=ai-se,level=senior (none: not given)"),
    ] = None,
) -> None:
    """Print one subscriber as JSON (consent and history included), or everyone as CSV."""
    chosen = parse_segment(segment) if segment is not None else None
    with transaction(pulse().db.sessions) as session:
        if email is not None:
            if chosen is not None:
                raise ValidationError("segment", "give an address or a segment, not both")
            record = subscriber_record(session, find_by_email(session, email))
            typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
            return
        write_export_csv(session, sys.stdout, where=chosen.where() if chosen else ())


@app.command("segments")
def segments(
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="role, level, region or timezone (repeat; default all)"),
    ] = None,
    status: Annotated[str, typer.Option(help="count this status (all: every status)")] = "active",
) -> None:
    """Count subscribers by profile field: how many readers each segment has."""
    wanted = None if status == "all" else _status(status)
    fields = by or list(PROFILE_FIELDS)
    with transaction(pulse().db.sessions) as session:
        counted = [(name, segment_counts(session, name, status=wanted)) for name in fields]
    for name, rows in counted:
        table = Table(name, "subscribers")
        for value, count in rows:
            table.add_row(value or "(not given)", str(count))
        console.print(table)


@app.command("forget")
def forget(email: Annotated[str, typer.Argument()]) -> None:
    """Erase a subscriber's personal data; only a keyed hash stays, suppressing the address."""
    wiring = pulse()
    with transaction(wiring.db.sessions) as session:
        subscriber = find_by_email(session, email)
        erase(session, subscriber, wiring.subscribers.leaving, wiring.subscribers.erasure_hooks)
    console.print("erased: the address is suppressed and its personal data removed")


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="pending, active, unsubscribed, ...")] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """Show subscribers, newest first."""
    wanted = _status(status) if status else None
    with transaction(pulse().db.sessions) as session:
        table = Table("id", "email", "name", "status", "since")
        for s in service.list_subscribers(session, status=wanted, limit=limit):
            status_text = s.status.value
            if s.paused_until is not None and s.is_paused(utcnow()):
                status_text += f" (paused until {s.paused_until.date().isoformat()})"
            table.add_row(
                str(s.id), s.email, s.first_name or "", status_text, s.created_at.date().isoformat()
            )
        counts = service.count_by_status(session)
    console.print(table)
    console.print(
        ", ".join(f"{k.value}: {v}" for k, v in sorted(counts.items())) or "no subscribers"
    )


def _status(text: str) -> SubscriberStatus:
    try:
        return SubscriberStatus(text)
    except ValueError as err:
        valid = ", ".join(s.value for s in SubscriberStatus)
        raise ValidationError("status", f"choose one of {valid}") from err
