"""Assembles the command groups into ``pulse``."""

from __future__ import annotations

import typer

from pipeline.cli import (
    comparisons,
    content,
    db,
    demo,
    editors,
    events,
    issue,
    report,
    scheduler,
    serve,
    subscribers,
    worker,
)
from pipeline.cli.common import PulseGroup, reset

app = typer.Typer(
    cls=PulseGroup,
    help="AISE Pulse Brief: the weekly newsletter pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _start(ctx: typer.Context) -> None:
    reset()
    ctx.call_on_close(reset)


app.add_typer(content.content_app, name="content")
app.add_typer(content.salary_app, name="salary")
content.salary_app.add_typer(comparisons.app, name="comparison")
app.add_typer(content.jobs_app, name="jobs")
app.add_typer(issue.app, name="issue")
report.register(issue.app)
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(db.app, name="db")
app.add_typer(events.app, name="events")
app.add_typer(editors.app, name="editors")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("scheduler")(scheduler.scheduler)
app.command("status")(scheduler.status)
app.command("worker")(worker.worker)


def main() -> None:
    """Console-script entry point."""
    app()
