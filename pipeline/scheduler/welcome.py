"""The welcome series' job: a pass every minute, so a new reader's welcome is prompt."""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.wiring import Pulse
from pipeline.workflow.welcome import run_welcome_series, series_config
from pulse_core.database import utcnow

log = logging.getLogger(__name__)
JOB_ID = "welcome-series"
POLL_SECONDS = 60


def welcome_pass(pulse: Pulse) -> None:
    """One pass; a failure is logged and retried next minute, never fatal to the scheduler."""
    try:
        report = run_welcome_series(pulse, utcnow())
    except Exception:  # the last resort of a job: the weekly send must outlive the series
        log.exception("welcome series pass failed")
        return
    if report.deferred:
        log.debug("welcome series waits: %s", report.deferred)
    for step in report.steps:
        if step.sent or step.retry or step.failed:
            log.info(
                "welcome series %s: sent %d, retry %d, failed %d",
                step.step,
                step.sent,
                step.retry,
                step.failed,
            )


def add_welcome_series(scheduler: BaseScheduler, pulse: Pulse) -> None:
    """Check the series' settings and templates now (a bad one stops the start), then poll."""
    if not series_config(pulse).enabled:
        return
    scheduler.add_job(
        welcome_pass,
        IntervalTrigger(seconds=POLL_SECONDS, timezone=pulse.settings.zone),
        args=[pulse],
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
    )
