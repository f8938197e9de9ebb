"""``pulse demo``: the whole weekly job on embedded defaults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, errors, pulse
from pipeline.cli.outcome import report_send_end
from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS
from pipeline.demo.seed import DEMO_POSTAL_ADDRESS, seed_week
from pipeline.issues.models import IssueStatus
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction


def demo(
    subscribers: Annotated[int, typer.Option(min=0, max=1_000_000)] = 1000,
    no_send: Annotated[bool, typer.Option("--no-send", help="stop after building")] = False,
) -> None:
    """Seed a realistic week, build this week's issue, send it, and summarise.

    Example: pulse demo --subscribers 200
    """
    started = time.perf_counter()
    app_ = pulse()
    settings = app_.settings
    if settings.postal_address == PLACEHOLDER_POSTAL_ADDRESS and settings.provider == "file":
        # The file provider mails nobody, so the demo may stand in an example address and
        # pass lint; a real provider still needs PULSE_POSTAL_ADDRESS.
        app_ = Pulse(settings.model_copy(update={"postal_address": DEMO_POSTAL_ADDRESS}))
    try:
        _run_demo(app_, subscribers, no_send, started)
    finally:
        if app_ is not pulse():
            app_.close()


def _run_demo(app_: Pulse, subscribers: int, no_send: bool, started: float) -> None:
    week = weekly.resolve_week(app_, None)
    with transaction(app_.db.sessions) as session:
        seeded = seed_week(session, week_monday(week), subscribers)
    built = weekly.build_week(app_, week)
    already_sent = built.issue.status is IssueStatus.SENT
    preview_dir = app_.settings.var_dir / "preview" / week
    weekly.write_preview(app_, week, preview_dir)
    report = None if no_send else weekly.send_week(app_, week)
    elapsed = time.perf_counter() - started

    table = Table(show_header=False, title="AISE Pulse Brief demo")
    table.add_row("issue", f"{week} (#{built.issue.number})")
    table.add_row("subject", built.issue.subject)
    table.add_row(
        "seeded",
        f"{seeded.salary_points} salary points, {seeded.jobs} jobs, "
        f"{seeded.snippets} snippets, {seeded.subscribers.added} new subscribers",
    )
    if already_sent:
        table.add_row("recipients", "already sent: this week's issue went out before")
        table.add_row("sent", "0 (nobody gets it twice)")
    else:
        table.add_row("recipients", str(report.created if report else 0))
        table.add_row("sent", "not sent (--no-send)" if report is None else str(report.sent))
        if report is not None:
            table.add_row("send", report.end.value)
    table.add_row("time", f"{elapsed:.2f}s")
    table.add_row("html", str(preview_dir / "issue.html"))
    table.add_row("outbox", str(app_.settings.outbox_dir / week))
    console.print(table)
    console.print(next_steps(week, preview_dir), markup=False, soft_wrap=True)
    if report is not None and not already_sent:
        report_send_end(report, errors)  # a paused or unfinished send is not a success


def next_steps(week: str, preview_dir: Path) -> str:
    """What a newcomer does after the demo."""
    return (
        "Next steps:\n"
        f"  open {preview_dir / 'issue.html'} in a browser to see the issue\n"
        "  pulse serve                 the signup page, archive and the editors' desk at /admin\n"
        "  pulse editors add YOU@EXAMPLE.COM --role admin   an account for the desk\n"
        "  pulse status                what goes out next, and when\n"
        "  pulse content add --help    queue next week's content\n"
        "  set PULSE_POSTAL_ADDRESS (and PULSE_PROVIDER) before mailing real readers"
    )
