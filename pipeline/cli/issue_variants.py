"""``pulse issue variants``: the week's tailored variants and who gets each."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, pulse
from pipeline.workflow import variants, weekly


def list_variants(
    week: Annotated[
        str | None, typer.Option("--week", help="ISO week such as 2026-W48 (default: this week)")
    ] = None,
) -> None:
    """List the issue's variants (the default first) with the readers each goes to.

    "readers" matches today's active readers to the variants as a send would; "deliveries"
    counts the rows the send made. Example: pulse issue variants --week 2026-W48
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    issue, lines = variants.variant_lines(app_, key)
    console.print(
        f"{key}: issue #{issue.number}, {len(lines) - 1} tailored variant(s) besides the default "
        f"(at most {app_.settings.max_variants}, PULSE_MAX_VARIANTS)",
        markup=False,
    )
    table = Table("variant", "readers", "deliveries")
    for line in lines:
        made = "" if line.deliveries is None else str(line.deliveries)
        table.add_row(line.key.text, str(line.readers), made)
    console.print(table)
