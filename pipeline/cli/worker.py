"""``pulse worker``: an extra sender process (run several on PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.common import MetricsHost, MetricsPort, console, pulse, start_metrics
from pipeline.delivery.engine import SendReport
from pipeline.workflow.worker import run_worker


def worker(
    poll: Annotated[float, typer.Option(help="seconds between looks for work when idle")] = 5.0,
    exit_when_idle: Annotated[
        bool, typer.Option("--exit-when-idle", help="stop when no send is in progress")
    ] = False,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Start any send requested from the desk and join any send in progress, until stopped."""
    start_metrics(metrics_port, metrics_host)

    def report(result: SendReport) -> None:
        if result.sent or result.outcome["failed"] or result.paused_reason:
            state = result.describe_end() if result.finished or result.paused_reason else None
            console.print(
                f"{result.week_key}: {result.describe_sent()}, failed {result.outcome['failed']}"
                f"; send {state or result.end.value}",
                markup=False,
                soft_wrap=True,
            )

    run_worker(pulse(), poll_seconds=poll, exit_when_idle=exit_when_idle, on_report=report)
