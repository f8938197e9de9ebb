"""``pulse scheduler``: APScheduler 3 running the weekly job on the configured clock."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline import metrics
from pipeline.scheduler.intake import add_daily_intake
from pipeline.scheduler.job import JobOutcome, WeeklyJob
from pipeline.scheduler.notify import EditorNotifier
from pipeline.scheduler.retention import add_daily_prune
from pipeline.scheduler.welcome import add_welcome_series
from pipeline.wiring import Pulse
from pulse_core.database import utcnow

log = logging.getLogger(__name__)
# How often the scheduler looks for an editor's "send now" (the desk records it, never sends)
# and for a local-time wave that has come due.
SEND_REQUEST_POLL_SECONDS = 30


def _log_outcome(outcome: JobOutcome) -> None:
    metrics.scheduler_job(outcome.action)
    log.info("weekly job %s: %s %s", outcome.week, outcome.action, outcome.detail.splitlines()[0:1])


def _tick(job: WeeklyJob) -> None:
    for outcome in job.tick(utcnow()):
        _log_outcome(outcome)


def _send_requested(job: WeeklyJob) -> None:
    for outcome in [*job.send_requested(), *job.send_waves(utcnow())]:
        _log_outcome(outcome)


def make_job(pulse: Pulse, stop: threading.Event) -> WeeklyJob:
    return WeeklyJob(pulse, pulse.schedule, EditorNotifier(pulse), stop)


def build_scheduler(job: WeeklyJob) -> BlockingScheduler:
    """The cron job for the send, interval jobs for re-checks and for "send now" requests."""
    scheduler = BlockingScheduler(timezone=job.schedule.zone)
    grace = int(job.settings.catch_up_grace_hours * 3600)
    scheduler.add_job(
        lambda: _log_outcome(job.run_due(utcnow())),
        job.schedule.trigger(),
        id="weekly-send",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=grace,
    )
    scheduler.add_job(
        _tick,
        IntervalTrigger(minutes=job.settings.recheck_minutes, timezone=job.schedule.zone),
        args=[job],
        id="tick",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        _send_requested,
        IntervalTrigger(seconds=SEND_REQUEST_POLL_SECONDS, timezone=job.schedule.zone),
        args=[job],
        id="send-requests",
        coalesce=True,
        max_instances=1,
    )
    add_daily_intake(scheduler, job.pulse)  # issue 17: job boards and feeds, once a day
    add_welcome_series(scheduler, job.pulse)  # issue 18: the welcome series, every minute
    add_daily_prune(scheduler, job.pulse)  # issue 20: bounded tables, when configured
    return scheduler


def run_scheduler(pulse: Pulse) -> None:
    """Catch up once, then run until SIGTERM/SIGINT; a send in flight finishes its batch."""
    stop = threading.Event()
    job = make_job(pulse, stop)
    scheduler = build_scheduler(job)

    def shut_down(signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %d: finishing the batch in flight, then exiting", signum)
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    _log_outcome(job.catch_up(utcnow()))
    if stop.is_set():
        return
    log.info(
        "scheduler started: next send %s",
        job.schedule.next_send(utcnow()).astimezone(job.schedule.zone).isoformat(),
    )
    scheduler.start()
    # Shutdown does not wait for the job thread: wait here so its batch is recorded.
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
