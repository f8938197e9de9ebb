"""Assembles the command groups into ``pulse``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated

import typer

from pipeline.cli import (
    comparisons,
    content,
    db,
    demo,
    doctor,
    editors,
    events,
    issue,
    jobs_intake,
    lifecycle,
    links,
    report,
    scheduler,
    serve,
    subscribers,
    templates,
    worker,
)
from pipeline.cli.common import PulseGroup, reset

app = typer.Typer(
    cls=PulseGroup,
    help=(
        "AISE Pulse Brief: the weekly newsletter pipeline.\n\n"
        "\b\nExamples:\n"
        "  pulse demo                     seed a week, build it, send it into var/outbox\n"
        "  pulse status                   what goes out next, and when\n"
        "  pulse content add --section role-insights --title 'Discovery beats demos'\n"
        "  pulse issue check              what this week's issue still needs\n"
        "  pulse issue send --week 2026-W49\n"
        "  pulse serve                    signup page, archive and the desk at /admin\n\n"
        "Run `pulse COMMAND --help` for a command's options."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    rich_markup_mode=None,
)


def _version() -> str:
    try:
        return package_version("aise-pulse-brief")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pulse (aise-pulse-brief) {_version()}")
        raise typer.Exit()


@app.callback()
def _start(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    reset()
    ctx.call_on_close(reset)


app.add_typer(content.content_app, name="content")
app.add_typer(content.salary_app, name="salary")
content.salary_app.add_typer(comparisons.app, name="comparison")
app.add_typer(content.jobs_app, name="jobs")
jobs_intake.register(content.jobs_app)
app.add_typer(links.app, name="links")
app.add_typer(issue.app, name="issue")
report.register(issue.app)
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(db.app, name="db")
app.add_typer(events.app, name="events")
app.add_typer(editors.app, name="editors")
app.add_typer(templates.app, name="templates")
app.add_typer(lifecycle.app, name="lifecycle")
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.command("serve")(serve.serve)
app.command("scheduler")(scheduler.scheduler)
app.command("status")(scheduler.status)
app.command("worker")(worker.worker)


def main() -> None:
    """Console-script entry point."""
    app()
