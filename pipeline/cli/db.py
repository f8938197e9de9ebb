"""``pulse db``: schema migrations."""

from __future__ import annotations

from pipeline.cli.common import console, new_app, pulse
from pipeline.db import open_database, upgrade

app = new_app("Database schema.")


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration."""
    database = open_database(pulse().settings.database_url, auto_upgrade=False)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()
    console.print("database is up to date")
