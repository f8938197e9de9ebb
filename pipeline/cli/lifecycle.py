"""``pulse lifecycle``: the welcome series, one pass at a time and where each step stands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse, require_provider
from pipeline.workflow.welcome import (
    preview_series,
    reader_welcome_status,
    run_welcome_series,
    welcome_status,
)
from pulse_core.database import utcnow

app = new_app("The welcome series sent after a reader confirms (PULSE_WELCOME_SERIES).")


@app.command("run")
def run() -> None:
    """Send every series email due now, once (the scheduler does this every minute)."""
    app_ = pulse()
    require_provider(app_)
    report = run_welcome_series(app_, utcnow())
    if report.deferred:
        console.print(f"nothing sent: {report.deferred}", markup=False)
        return
    for step in report.steps:
        line = f"{step.step}: sent {step.sent}"
        extra = {"retry later": step.retry, "failed": step.failed, "skipped": step.skipped}
        line += "".join(f", {label} {count}" for label, count in extra.items() if count)
        console.print(line, markup=False)


@app.command("preview")
def preview(
    out: Annotated[Path, typer.Option(help="folder to write the files into")],
) -> None:
    """Write each step as the sample reader gets it: STEP.html, STEP.txt and STEP.eml."""
    out.mkdir(parents=True, exist_ok=True)
    for step in preview_series(pulse()):
        (out / f"{step.step}.html").write_text(step.html, encoding="utf-8")
        (out / f"{step.step}.txt").write_text(step.text, encoding="utf-8")
        (out / f"{step.step}.eml").write_bytes(step.eml)
        console.print(f"{step.step}: {step.subject}", markup=False)
    console.print(f"wrote {out}", markup=False)


@app.command("status")
def status(
    email: Annotated[str | None, typer.Argument(help="one subscriber's steps")] = None,
) -> None:
    """Per step: sent, due now, waiting, paused, stopped, missed; or one subscriber's steps."""
    app_ = pulse()
    now = utcnow()
    if email is not None:
        table = Table("step", "delay", "state", "at")
        for mine in reader_welcome_status(app_, email, now):
            at = f"{mine.at:%Y-%m-%d %H:%M} UTC" if mine.at else ""
            table.add_row(mine.step.key, mine.step.delay_text, mine.state, at)
        console.print(table)
        return
    overview = welcome_status(app_, now)
    if not overview.steps:
        console.print("the welcome series is off (PULSE_WELCOME_SERIES is empty)", markup=False)
        return
    table = Table(title="welcome series")
    table.add_column("step", no_wrap=True)
    for name in ("delay", "sent", "due", "waiting", "paused", "stopped", "missed"):
        table.add_column(name, justify="right")
    table.add_column("also")
    for item in overview.steps:
        counts = (item.sent, item.due, item.waiting, item.paused, item.stopped, item.missed)
        more = {
            "in flight": item.in_flight,
            "retrying": item.retrying,
            "failed": item.failed,
            "skipped": item.skipped,
        }
        also = ", ".join(f"{count} {label}" for label, count in more.items() if count)
        table.add_row(item.step.key, item.step.delay_text, *(str(n) for n in counts), also)
    console.print(table)
    if overview.quiet:
        console.print(f"holding back now: {overview.quiet}", markup=False)
