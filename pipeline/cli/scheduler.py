"""``pulse scheduler`` and ``pulse status``: the weekly clock and the operator's overview."""

from __future__ import annotations

from rich.table import Table
from sqlalchemy import select, text

from pipeline.cli.common import (
    MetricsHost,
    MetricsPort,
    console,
    pulse,
    require_provider,
    start_metrics,
)
from pipeline.db import is_current
from pipeline.delivery.outbox import counts_by_status
from pipeline.errors import PulseError
from pipeline.issues.build import find_issue
from pipeline.issues.lifecycle import allowed_actions
from pipeline.issues.models import Issue
from pipeline.logs import configure_logging
from pipeline.scheduler.runner import run_scheduler
from pipeline.workflow.calendar import next_unsent_week, send_time_of
from pulse_core.database import utcnow
from subscribers.service import count_by_status


def scheduler(
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the weekly job on PULSE_SCHEDULE in PULSE_TIMEZONE until stopped."""
    app_ = pulse()
    require_provider(app_)
    start_metrics(metrics_port, metrics_host)
    configure_logging(app_.settings.log_format)
    run_scheduler(app_)


def status() -> None:
    """Next run, the last issue and its counts, subscribers by status, provider and database."""
    app_ = pulse()
    settings = app_.settings
    table = Table(show_header=False, title="AISE Pulse Brief status")
    with app_.db.sessions() as session:
        session.execute(text("SELECT 1"))
        upcoming = next_unsent_week(session, app_.schedule, utcnow())
        due = send_time_of(app_.schedule, upcoming)
        prepared = find_issue(session, upcoming)
        state = (
            "not built yet" if prepared is None else f"#{prepared.number} {prepared.status.value}"
        )
        table.add_row("next send", f"{upcoming} at {due:%a %d %b %Y %H:%M %Z} ({state})")
        commands = ("build", "check", "approve", "send", "discard")  # `pulse issue …`
        actions = [a for a in (*allowed_actions(prepared), "check") if a in commands]
        if actions:
            table.add_row("next steps", ", ".join(f"pulse issue {a}" for a in actions))
        last = session.scalar(select(Issue).order_by(Issue.number.desc()).limit(1))
        if last is None:
            table.add_row("last issue", "none yet")
        else:
            counts = counts_by_status(session, last.id)
            summary = ", ".join(f"{k.value} {v}" for k, v in sorted(counts.items())) or "no sends"
            table.add_row("last issue", f"{last.week_key} #{last.number} {last.status.value}")
            table.add_row("deliveries", summary)
        subscribers = count_by_status(session)
    table.add_row(
        "subscribers",
        ", ".join(f"{k.value} {v}" for k, v in sorted(subscribers.items())) or "none",
    )
    table.add_row(
        "database",
        "ok, migrations current"
        if is_current(app_.db.engine)
        else "reachable, migrations pending (run `pulse db upgrade`)",
    )
    try:
        provider = app_.provider()
        provider.close()
        table.add_row("provider", f"{settings.provider}: configured")
    except PulseError as err:
        table.add_row("provider", f"{settings.provider}: {err}")
    console.print(table)
