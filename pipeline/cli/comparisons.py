"""``pulse salary comparison``: the Salary Pulse tables editors maintain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse
from pipeline.issues.comparisons import list_comparisons, remove_comparison, save_comparison
from pulse_core.database import transaction

app = new_app("Salary comparison tables (a row per level, a column per role).")


@app.command("set")
def set_comparison(
    key: Annotated[str, typer.Argument(help="short name, e.g. ai-se-vs-mle")],
    title: Annotated[str, typer.Option(help="table heading")],
    level: Annotated[list[str], typer.Option(help="a row; repeat, top to bottom")],
    column: Annotated[list[str], typer.Option(help="'ROLE=Column heading'; repeat, left to right")],
    first_column: Annotated[str, typer.Option(help="heading of the level column")] = "Level",
    region: Annotated[str | None, typer.Option(help="only data points of this region")] = None,
    position: Annotated[int, typer.Option(help="order among the tables")] = 0,
    pay_basis: Annotated[
        str, typer.Option(help="which figures: base, ote (on-target) or total (surveys)")
    ] = "total",
) -> None:
    """Add a comparison, or replace the one with the same key."""
    with transaction(pulse().db.sessions) as session:
        row = save_comparison(
            session,
            key=key,
            title=title,
            levels=level,
            columns=column,
            first_column=first_column,
            region=region,
            position=position,
            pay_basis=pay_basis,
        )
        console.print(f"saved comparison {row.key}", markup=False)


@app.command("list")
def list_() -> None:
    """Show the comparisons in the order they appear."""
    with transaction(pulse().db.sessions) as session:
        table = Table("key", "title", "levels", "columns (role → heading)", "region", "pos")
        for row in list_comparisons(session):
            table.add_row(
                row.key,
                row.title,
                ", ".join(row.levels),
                "; ".join(f"{role} → {heading}" for role, heading in row.columns),
                row.region or "any",
                str(row.position),
            )
    console.print(table)


@app.command("remove")
def remove(key: Annotated[str, typer.Argument()]) -> None:
    """Delete a comparison (its data points stay)."""
    with transaction(pulse().db.sessions) as session:
        remove_comparison(session, key)
    console.print(f"removed comparison {key}", markup=False)
