"""``pulse issue``: build, preview, send and watch the week's issue."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from pipeline import weekly
from pipeline.cli.common import console, errors, new_app, pulse
from pipeline.cli.progress import SendProgress
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.outbox import counts_by_status
from pipeline.issues import lifecycle
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue
from pipeline.issues.readiness import check_readiness
from pipeline.issues.screenshots import chromium_available, take_screenshots
from subscribers.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus

app = new_app("The week's issue.")

WeekOption = Annotated[
    str | None, typer.Option("--week", help="ISO week such as 2026-W48 (default: this week)")
]


def _print_lint(key: str, problems: list[str]) -> None:
    if not problems:
        console.print(f"{key}: lint clean")
        return
    console.print(f"{key}: lint found {len(problems)} problem(s); `send` will refuse:")
    for problem in problems:
        console.print(f"  - {problem}", markup=False)


@app.command("build")
def build(
    week: WeekOption = None,
    rebuild: Annotated[bool, typer.Option(help="re-assemble an unsent issue")] = False,
    subject: Annotated[str | None, typer.Option(help="at most 70 characters")] = None,
    preheader: Annotated[str | None, typer.Option(help="at most 110 characters")] = None,
) -> None:
    """Assemble and render the week's issue (the same issue if it already exists), then lint."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    result = weekly.build_week(app_, key, rebuild=rebuild, subject=subject, preheader=preheader)
    state = "built" if result.created else ("rebuilt" if rebuild else "already built")
    console.print(
        f"{key}: {state} issue #{result.issue.number} “{result.issue.subject}”", markup=False
    )
    problems = weekly.lint_week(app_, key)
    _print_lint(key, problems)
    if problems:
        raise typer.Exit(1)


@app.command("lint")
def lint(week: WeekOption = None) -> None:
    """Check the built issue: size, links, alt text, footer, text part, MJML."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    problems = weekly.lint_week(app_, key)
    _print_lint(key, problems)
    if problems:
        raise typer.Exit(1)


@app.command("check")
def check(week: WeekOption = None) -> None:
    """Per section what is there and what is missing, plus lint problems; non-zero if not ready."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    with app_.db.sessions() as session:
        report = check_readiness(session, week=key, settings=app_.settings, now=utcnow())
        session.rollback()  # assembling a candidate must leave nothing behind
    console.print(report.as_text(), markup=False)
    if not report.ready:
        raise typer.Exit(1)


@app.command("preview")
def preview(
    out: Annotated[Path, typer.Option(help="folder to write the files into")],
    week: WeekOption = None,
) -> None:
    """Write issue.mjml, issue.html, issue.txt, a sample issue.eml and (with Chromium) PNGs."""
    app_ = pulse()
    written = weekly.write_preview(app_, weekly.resolve_week(app_, week), out)
    for path in written:
        console.print(str(path))
    chromium = app_.settings.chromium_path
    if not chromium_available(chromium):
        console.print(
            f"screenshots skipped: no Chromium at {chromium}, or Playwright missing "
            "(pip install 'aise-pulse-brief[preview]')",
            markup=False,
        )
        return
    html = (out / "issue.html").read_text(encoding="utf-8")
    shots = take_screenshots(html, out, chromium=chromium)
    for shot in shots:
        console.print(str(shot.path))
    wide = [s for s in shots if s.scrolls_sideways]
    for shot in wide:
        console.print(
            f"warning: at {shot.width}px the issue scrolls sideways "
            f"(content is {shot.scroll_width}px wide)"
        )
    if wide:
        raise typer.Exit(1)


def _send(week: str | None, *, resume: bool) -> None:
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    stop = threading.Event()

    def finish_batch_then_stop(signum: int, _frame: FrameType | None) -> None:
        errors.print("stopping after the batch in flight; `pulse issue resume` continues")
        stop.set()

    previous = signal.signal(signal.SIGTERM, finish_batch_then_stop)
    try:
        total = _deliveries_left(key)
        interval = app_.settings.progress_interval
        with SendProgress(console, key, total, interval=interval) as progress:
            report = weekly.send_week(app_, key, on_progress=progress, resume=resume, stop=stop)
    finally:
        signal.signal(signal.SIGTERM, previous)
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


@app.command("approve")
def approve(
    week: WeekOption = None,
    editor: Annotated[str, typer.Option(help="who approves (recorded)")] = "cli",
) -> None:
    """Approve a held (or built) issue and send it now."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    with transaction(app_.db.sessions) as session:
        lifecycle.approve_issue(session, key, editor)
    console.print(f"{key}: approved by {editor}")
    _send(key, resume=False)


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
