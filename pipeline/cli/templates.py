"""``pulse templates``: an operator's own copy of the email and page templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import console, new_app
from pipeline.errors import ValidationError
from pipeline.resources import copy_templates

app = new_app("The email and web templates (restyle without forking).")


@app.command("copy")
def copy(destination: Annotated[Path, typer.Argument(help="a new folder")]) -> None:
    """Copy the bundled templates to DESTINATION; then set PULSE_TEMPLATES_DIR to it."""
    try:
        count = copy_templates(destination)
    except FileExistsError as err:
        raise ValidationError("destination", str(err)) from None
    console.print(f"copied {count} files to {destination}", markup=False)
    hint = f"render from them with PULSE_TEMPLATES_DIR={destination.resolve()}"
    console.print(hint, markup=False, soft_wrap=True)
