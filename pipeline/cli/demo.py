"""``pulse demo``: the whole weekly job on embedded defaults."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from pipeline import weekly
from pipeline.cli.common import console, pulse
from pipeline.demo.seed import seed_week
from pipeline.issues.weeks import week_monday
from subscribers.database import transaction


def demo(
    subscribers: Annotated[int, typer.Option(min=0, max=1_000_000)] = 1000,
    no_send: Annotated[bool, typer.Option("--no-send", help="stop after building")] = False,
) -> None:
    """Seed a realistic week, build this week's issue, send it, and summarise."""
    started = time.perf_counter()
    app_ = pulse()
    week = weekly.resolve_week(app_, None)
    with transaction(app_.db.sessions) as session:
        seeded = seed_week(session, week_monday(week), subscribers)
    built = weekly.build_week(app_, week)
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
    table.add_row("recipients", str(report.created if report else 0))
    table.add_row("sent", "not sent (--no-send)" if report is None else str(report.sent))
    table.add_row("time", f"{elapsed:.2f}s")
    table.add_row("html", str(preview_dir / "issue.html"))
    table.add_row("outbox", str(app_.settings.outbox_dir / week))
    console.print(table)
