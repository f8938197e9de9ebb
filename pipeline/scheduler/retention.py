"""The daily retention job: ``pulse db prune --older-than $PULSE_PRUNE_OLDER_THAN``."""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from pipeline.wiring import Pulse
from pipeline.workflow.retention import prune_older_than

log = logging.getLogger(__name__)
JOB_ID = "prune"
# Quiet hours in the list's time zone, away from the weekly send and the job intake.
PRUNE_HOUR, PRUNE_MINUTE = 3, 30


def daily_prune(pulse: Pulse) -> None:
    """One prune; a failure is logged, never fatal to the scheduler (the next day retries)."""
    age = pulse.settings.prune_age
    if age is None:
        return
    try:
        report = prune_older_than(pulse, age)
    except Exception:  # the last resort of a job: the weekly send must outlive a prune
        log.exception("daily prune failed")
        return
    log.info(
        "pruned %d issues: %d deliveries, %d events, %d engagements, %d unlinked events",
        len(report.issues),
        report.deliveries,
        report.events,
        report.engagements,
        report.unlinked_events,
    )


def add_daily_prune(scheduler: BaseScheduler, pulse: Pulse) -> None:
    """Schedule the job when ``PULSE_PRUNE_OLDER_THAN`` is set; otherwise nothing."""
    if pulse.settings.prune_age is None:
        return
    scheduler.add_job(
        daily_prune,
        CronTrigger(hour=PRUNE_HOUR, minute=PRUNE_MINUTE, timezone=pulse.settings.zone),
        args=[pulse],
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
