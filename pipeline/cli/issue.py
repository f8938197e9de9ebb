"""``pulse issue``: build, preview, send and watch the week's issue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from pipeline import weekly
from pipeline.cli.common import console, errors, new_app, pulse
from pipeline.cli.progress import SendProgress
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.outbox import counts_by_status
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue
from subscribers.database import transaction
from subscribers.models import Subscriber, SubscriberStatus

app = new_app("The week's issue.")

WeekOption = Annotated[
    str | None, typer.Option("--week", help="ISO week such as 2026-W48 (default: this week)")
]


@app.command("build")
def build(
    week: WeekOption = None,
    rebuild: Annotated[bool, typer.Option(help="re-assemble an unsent issue")] = False,
) -> None:
    """Assemble and render the week's issue (the same issue if it already exists)."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    result = weekly.build_week(app_, key, rebuild=rebuild)
    state = "built" if result.created else ("rebuilt" if rebuild else "already built")
    console.print(f"{key}: {state} issue #{result.issue.number} “{result.issue.subject}”")


@app.command("preview")
def preview(
    out: Annotated[Path, typer.Option(help="folder to write the files into")],
    week: WeekOption = None,
) -> None:
    """Write issue.mjml, issue.html, issue.txt and a sample issue.eml."""
    app_ = pulse()
    for path in weekly.write_preview(app_, weekly.resolve_week(app_, week), out):
        console.print(str(path))


def _send(week: str | None, *, resume: bool) -> None:
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    total = _deliveries_left(key)
    with SendProgress(console, key, total, interval=app_.settings.progress_interval) as progress:
        report = weekly.send_week(app_, key, on_progress=progress, resume=resume)
    if report.paused_reason:
        errors.print(f"{key}: send paused: {report.paused_reason}", markup=False)
    state = "finished" if report.finished else "unfinished (run `pulse issue resume`)"
    console.print(
        f"{key}: sent {report.sent}, failed {report.outcome['failed']}, "
        f"in {report.elapsed:.1f}s; send {state}"
    )
    if report.paused_reason:
        raise typer.Exit(1)


def _deliveries_left(week: str) -> int:
    """Rows still to send, for the progress bar (the whole list when the send starts now)."""
    app_ = pulse()
    with transaction(app_.db.sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == week))
        if issue is None:
            return 0
        counts = counts_by_status(session, issue.id)
        if counts:
            return counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
        query = select(func.count()).select_from(Subscriber)
        return int(session.scalar(query.where(Subscriber.status == SubscriberStatus.ACTIVE)) or 0)


@app.command("send")
def send(week: WeekOption = None) -> None:
    """Send the week's issue to every active subscriber (continues an interrupted send)."""
    _send(week, resume=False)


@app.command("resume")
def resume(week: WeekOption = None) -> None:
    """Continue a paused or interrupted send."""
    _send(week, resume=True)


@app.command("status")
def status(week: WeekOption = None) -> None:
    """Show the issue's state and its deliveries by status."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    with transaction(app_.db.sessions) as session:
        issue = get_issue(session, key)
        counts = counts_by_status(session, issue.id)
    console.print(f"{key}: issue #{issue.number} “{issue.subject}” is {issue.status.value}")
    if issue.pause_reason:
        console.print(f"paused because: {issue.pause_reason}", markup=False)
    table = Table("deliveries", "count")
    for state in DeliveryStatus:
        table.add_row(state.value, str(counts.get(state, 0)))
    table.add_row("total", str(sum(counts.values())))
    console.print(table)
