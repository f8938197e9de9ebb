"""``pulse events``: provider events applied from files and mailboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import console, new_app, pulse
from pipeline.delivery.verp import ReturnPaths
from pipeline.errors import PulseError, ValidationError
from pipeline.events.ingest import event_source, read_backfill
from pipeline.events.mailbox import scan_mailbox
from pipeline.events.models import EventType
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import IngestReport, apply_events
from pipeline.events.providers import SOURCES
from pulse_core.database import transaction

app = new_app("Provider events: bounces, complaints and unsubscribes.")


@app.command("import")
def import_events(
    provider: Annotated[str, typer.Argument(help="postmark, sendgrid, mailgun, ses or resend")],
    path: Annotated[Path, typer.Argument(help="a saved webhook body, or a JSON array of them")],
) -> None:
    """Apply saved events (e.g. after a web-app outage) exactly as the webhook would."""
    source = event_source(provider)
    events = read_backfill(path, source)
    refuse_foreign_file(provider, path, events)
    wiring = pulse()
    policy = wiring.event_policy
    with transaction(wiring.db.sessions) as session:
        report = apply_events(session, events, policy)
    _print_report(f"{len(events)} events read from {path.name}", report)


def _recognised(events: list[NormalisedEvent]) -> bool:
    return any(e.type is not EventType.UNKNOWN or e.recipient is not None for e in events)


def refuse_foreign_file(provider: str, path: Path, events: list[NormalisedEvent]) -> None:
    """Refuse a file in which nothing reads as ``provider``'s events (another provider's?).

    Every provider's parser accepts any JSON object as an ``unknown`` event, so a Mailgun
    export imported as Postmark would be "stored" and change nothing, silently.
    """
    if not events or _recognised(events):
        return
    likely = []
    for name in sorted(SOURCES):
        if name == provider:
            continue
        try:
            if _recognised(read_backfill(path, SOURCES[name])):
                likely.append(name)
        except PulseError:
            continue
    hint = f"it looks like {' or '.join(likely)}'s format" if likely else "check the file"
    raise ValidationError(
        "PROVIDER",
        f"nothing in {path.name} reads as a {provider} event (no known event type or "
        f"recipient); {hint}. Nothing was imported.",
    )


@app.command("mailbox")
def mailbox_command(
    path: Annotated[Path, typer.Argument(help="an mbox file or a Maildir folder")],
    verbose: Annotated[bool, typer.Option(help="list the messages that were skipped")] = False,
) -> None:
    """Apply bounce reports, ARF complaints and mailto: unsubscribes found in a mailbox."""
    wiring = pulse()
    settings = wiring.settings
    # Any of our keys reads a VERP token, whatever PULSE_BOUNCE_DOMAIN is now.
    return_paths = ReturnPaths(settings.bounce_domain or "localhost", settings.secret_keys())
    scan = scan_mailbox(path, wiring.signer, return_paths)
    policy = wiring.event_policy
    with transaction(wiring.db.sessions) as session:
        report = apply_events(session, scan.events, policy)
    _print_report(
        f"{scan.messages} messages, {len(scan.events)} events, {len(scan.skipped)} skipped",
        report,
    )
    if verbose:
        for reason in scan.skipped:
            console.print(f"  skipped {reason}", markup=False)


def _print_report(heading: str, report: IngestReport) -> None:
    console.print(heading, markup=False)
    console.print(
        f"stored {report.stored}, duplicates {report.duplicates}, "
        f"without a matching delivery {report.unmatched}",
        markup=False,
    )
    changes = ", ".join(f"{name} {count}" for name, count in sorted(report.changes.items()))
    console.print(f"list changes: {changes or 'none'}", markup=False)
