"""``pulse db``: schema migrations, and pruning old rows (``pulse db prune``)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.common import console, new_app, pulse
from pipeline.db import open_database, upgrade
from pipeline.workflow.retention import prune_age, prune_older_than

app = new_app("Database schema and retention.")


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration."""
    database = open_database(pulse().settings.database_url, auto_upgrade=False)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()
    console.print("database is up to date")


@app.command("prune")
def prune_command(
    older_than: Annotated[
        str, typer.Option("--older-than", help="age such as 180d or 26w (at least 30d)")
    ],
    dry_run: Annotated[bool, typer.Option(help="count what would go, delete nothing")] = False,
) -> None:
    """Delete per-recipient rows of finished issues older than this; their figures stay."""
    age = prune_age(older_than)
    wiring = pulse()
    report = prune_older_than(
        wiring, age, dry_run=dry_run, progress=lambda line: console.print(line, markup=False)
    )
    verb = "would delete" if dry_run else "deleted"
    weeks = ", ".join(report.issues) or "none"
    console.print(f"issues before {report.cutoff:%Y-%m-%d}: {weeks}", markup=False)
    console.print(
        f"{verb} {report.deliveries} deliveries, {report.events} provider events, "
        f"{report.engagements} engagements, {report.unlinked_events} unlinked events",
        markup=False,
    )
