"""``pulse editors``: accounts for the web desk."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.admin.accounts import add_editor
from pipeline.cli.common import console, new_app, pulse
from pulse_core.database import transaction

app = new_app("Editors' accounts for the web desk (/admin).")


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="the editor's email address")],
    role: Annotated[str, typer.Option(help="editor or admin")] = "editor",
) -> None:
    """Create an account (or re-issue its link) and print a one-time password-set link."""
    wiring = pulse()
    with transaction(wiring.db.sessions) as session:
        link = add_editor(session, email, role)
        address, role_name = link.editor.email, link.editor.role.value
    url = f"{wiring.settings.base_url}/admin/set-password/{link.token}"
    console.print(f"{address} ({role_name}): set a password within 3 days at")
    console.print(url, markup=False, soft_wrap=True)
