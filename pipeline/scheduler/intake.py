"""The daily intake job: fetch every board and feed at ``PULSE_JOBS_FETCH_TIME``."""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from pipeline.wiring import Pulse
from pipeline.workflow.intake import run_intake

log = logging.getLogger(__name__)
JOB_ID = "jobs-fetch"


def daily_intake(pulse: Pulse) -> None:
    """One fetch of every source; a failure is logged, never fatal to the scheduler."""
    try:
        outcome = run_intake(pulse)
    except Exception:  # the last resort of a job: the weekly send must outlive any board
        log.exception("daily job intake failed")
        return
    for report in outcome.reports:
        if report.failed:
            log.warning("intake %s failed: %s", report.source, report.failed)
        else:
            log.info(
                "intake %s: found %d, new %d, changed %d, gone %d",
                report.source,
                report.found,
                report.new,
                report.changed,
                report.gone,
            )
    for week in outcome.rebuilt:
        log.info("rebuilt issue %s: a closed job left it", week)


def add_daily_intake(scheduler: BaseScheduler, pulse: Pulse) -> None:
    hour, minute = pulse.settings.jobs_fetch_time.split(":")
    scheduler.add_job(
        daily_intake,
        CronTrigger(hour=int(hour), minute=int(minute), timezone=pulse.settings.zone),
        args=[pulse],
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
