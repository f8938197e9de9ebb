"""``pulse subscribers``: the list, from the operator's side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse
from pipeline.cli.content import read_csv_path
from pipeline.errors import ValidationError
from subscribers import service
from subscribers.database import transaction
from subscribers.models import SubscriberStatus

app = new_app("Subscribers.")

ConsentOption = Annotated[
    str, typer.Option(help="the consent text these people agreed to (you vouch for it)")
]


@app.command("add")
def add(
    email: Annotated[str, typer.Argument()],
    consent: ConsentOption,
    name: Annotated[str | None, typer.Option("--name", help="first name")] = None,
) -> None:
    """Add one active subscriber."""
    with transaction(pulse().db.sessions) as session:
        subscriber, created = service.add_subscriber(
            session, email, first_name=name, consent_text=consent, consent_source="cli:add"
        )
        verb = "added" if created else "already present:"
        console.print(f"{verb} {subscriber.email} ({subscriber.status.value})")


@app.command("import")
def import_csv(
    path: Annotated[Path, typer.Argument(help="CSV with an 'email' column")],
    consent: ConsentOption,
) -> None:
    """Import subscribers from CSV; any bad line aborts the whole file."""
    read_csv_path(path)
    with transaction(pulse().db.sessions) as session, path.open(newline="", encoding="utf-8") as f:
        summary = service.import_subscribers(
            session,
            service.read_subscriber_csv(f),
            consent_text=consent,
            consent_source=f"cli:import:{path.name}",
        )
    console.print(
        f"imported {summary.added} new, {summary.already_present} already present, "
        f"{summary.duplicates_in_file} duplicates in the file"
    )


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="pending, active, unsubscribed, ...")] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """Show subscribers, newest first."""
    wanted = None
    if status:
        try:
            wanted = SubscriberStatus(status)
        except ValueError as err:
            valid = ", ".join(s.value for s in SubscriberStatus)
            raise ValidationError("status", f"choose one of {valid}") from err
    with transaction(pulse().db.sessions) as session:
        table = Table("id", "email", "name", "status", "since")
        for s in service.list_subscribers(session, status=wanted, limit=limit):
            table.add_row(
                str(s.id),
                s.email,
                s.first_name or "",
                s.status.value,
                s.created_at.date().isoformat(),
            )
        counts = service.count_by_status(session)
    console.print(table)
    console.print(
        ", ".join(f"{k.value}: {v}" for k, v in sorted(counts.items())) or "no subscribers"
    )
