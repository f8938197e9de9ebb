"""``pulse links sources add|list|remove``: RSS/Atom feeds whose items become Quick Links."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse
from pipeline.cli.jobs_intake import add_plain_row
from pipeline.intake import sources
from pulse_core.database import transaction

app = new_app("Quick Links from RSS/Atom feeds (fetched by `pulse jobs fetch`).")
sources_app = new_app("Feeds to fetch.")
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="the feed's URL")],
    auto_accept: Annotated[bool, typer.Option(help="queue new items without review")] = False,
) -> None:
    """Add a feed; its new items become Quick Links proposals in `pulse jobs review`."""
    with transaction(pulse().db.sessions) as session:
        source = sources.add_feed(session, url=url, auto_accept=auto_accept)
        console.print(f"added feed {source.board}", markup=False)


@sources_app.command("list")
def list_() -> None:
    """Show the feeds and how their last fetch went."""
    with transaction(pulse().db.sessions) as session:
        table = Table("url", "auto", "last fetch", "result")
        for s in sources.list_sources(session, feeds=True):
            add_plain_row(
                table,
                s.board,
                "yes" if s.auto_accept else "",
                s.last_fetched_at.isoformat() if s.last_fetched_at else "never",
                s.last_result or "",
            )
    console.print(table)


@sources_app.command("remove")
def remove(url: Annotated[str, typer.Argument()]) -> None:
    """Stop fetching a feed; its open proposals go, accepted Quick Links stay."""
    with transaction(pulse().db.sessions) as session:
        sources.remove_source(session, kind="feed", board=url)
    console.print(f"removed feed {url.strip()}", markup=False)
