"""The weekly job: build → lint and readiness → send, or hold and tell the editors.

Every decision that must happen once per week is claimed through ``issue_milestones``
first, so several schedulers (or a scheduler and a person) can run the same step and only
one acts. Every method takes ``now`` so tests can travel in time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.delivery.report import RunEnd, SendReport
from pipeline.delivery.send_lock import SendInProgress
from pipeline.issues.build import find_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.readiness import Readiness
from pipeline.issues.states import UNSENT
from pipeline.schedule import WeeklySchedule
from pipeline.scheduler import milestones, origin
from pipeline.wiring import Pulse
from pipeline.workflow import decisions, weekly
from pipeline.workflow.analytics import last_issue_top_links
from pipeline.workflow.check import check_week
from pipeline.workflow.waves import send_due_waves
from pipeline.workflow.worker import start_requested_sends

log = logging.getLogger(__name__)

Notify = Callable[[str, str], int]


@dataclass(frozen=True)
class JobOutcome:
    """What a step did, for logs and tests."""

    week: str
    # sent, paused, interrupted, waiting-for-wave, retries-pending, unfinished (SEND_ACTIONS), held,
    # skipped, already-run, busy, waiting, missed, reminded, nothing
    action: str
    detail: str = ""


# What a send that ran says, by how its run ended (delivery.report.RunEnd).
SEND_ACTIONS = {
    RunEnd.FINISHED: "sent",
    RunEnd.PAUSED: "paused",
    RunEnd.STOPPED: "interrupted",
    RunEnd.WAVES_PENDING: "waiting-for-wave",
    RunEnd.RETRIES_PENDING: "retries-pending",
    RunEnd.UNFINISHED: "unfinished",
}


def send_outcome(report: SendReport) -> JobOutcome:
    """The job's outcome for a send run, from how the run ended (not just finished or not)."""
    detail = f"{report.sent} messages"
    if not report.finished:
        detail += f"; {report.describe_end()}"
    return JobOutcome(report.week_key, SEND_ACTIONS[report.end], detail)


class WeeklyJob:
    """The scheduler's steps, each safe to run from several processes at once."""

    def __init__(
        self,
        pulse: Pulse,
        schedule: WeeklySchedule,
        notify: Notify,
        stop: threading.Event | None = None,
    ) -> None:
        self.pulse = pulse
        self.settings = pulse.settings
        self.schedule = schedule
        self.notify = notify
        self.stop = stop or threading.Event()

    # The steps ---------------------------------------------------------------------------

    def run_due(self, now: datetime) -> JobOutcome:
        """The cron trigger fired: run this week's issue once."""
        return self.run_weekly(self.schedule.week_at(now), now)

    def run_weekly(self, week: str, now: datetime) -> JobOutcome:
        if not milestones.claim(self.pulse.db.sessions, week, milestones.WEEKLY_RUN):
            return JobOutcome(week, "already-run")
        issue = self._build(week)
        if issue.status not in UNSENT:
            return JobOutcome(week, "nothing", f"issue is {issue.status.value}")
        readiness = self._readiness(week, now)
        if readiness.ready or issue.approved_at is not None:
            return self._send(week)
        decisions.hold(self.pulse, week, "not ready at send time")
        if milestones.claim(self.pulse.db.sessions, week, milestones.HOLD_REPORT):
            deadline = self._deadline(week)
            self.notify(
                f"{week} is on hold: not ready",
                readiness.as_text()
                + f"\n\nChecking again every {self.settings.recheck_minutes} minutes until "
                f"{deadline.astimezone(self.schedule.zone):%a %d %b %H:%M %Z}; then the issue is "
                f"{'sent as it is' if self.settings.on_deadline == 'send' else 'skipped'}.\n"
                f"Approve it with `pulse issue approve --week {week}` (sent at the next "
                f"re-check) or send it now with `pulse issue send --week {week}`.",
            )
        return JobOutcome(week, "held", readiness.as_text())

    def tick(self, now: datetime) -> list[JobOutcome]:
        """Periodic work: reminders, re-checking held issues, resuming interrupted sends."""
        outcomes = [
            self.remind(now),
            self.recheck(now),
            *self.send_requested(),
            *self.send_waves(now),
        ]
        return [o for o in outcomes if o.action != "nothing"]

    def send_requested(self) -> list[JobOutcome]:
        """Start every send an editor asked for ("send now" on the desk)."""
        return [send_outcome(r) for r in start_requested_sends(self.pulse, stop=self.stop)]

    def send_waves(self, now: datetime) -> list[JobOutcome]:
        """Send every local-time wave that has come due (PULSE_SEND_LOCAL_TIME)."""
        return [send_outcome(r) for r in send_due_waves(self.pulse, now, stop=self.stop)]

    def remind(self, now: datetime) -> JobOutcome:
        due = self.schedule.next_send(now)
        week = self.schedule.week_at(due)
        if now < due - timedelta(hours=self.settings.reminder_hours):
            return JobOutcome(week, "nothing")
        if not milestones.claim(self.pulse.db.sessions, week, milestones.REMINDER):
            return JobOutcome(week, "nothing")
        readiness = self._readiness(week, now)
        local_due = due.astimezone(self.schedule.zone)
        self.notify(
            f"{week} goes out {local_due:%a %d %b %H:%M %Z}"
            + ("" if readiness.ready else ": not ready yet"),
            "\n\n".join(filter(None, [readiness.as_text(), last_issue_top_links(self.pulse)])),
        )
        return JobOutcome(week, "reminded", readiness.as_text())

    def recheck(self, now: datetime) -> JobOutcome:
        """A held issue is sent once ready; at the deadline it is sent or skipped."""
        week = self.schedule.week_at(self.schedule.previous_send(now))
        issue = self._issue(week)
        if issue is None:
            return JobOutcome(week, "nothing")
        if issue.status is IssueStatus.SENDING:
            return self._send(week)  # an interrupted send (its lock went stale) resumes
        if issue.status is IssueStatus.BUILT and issue.approved_at is not None:
            # Approved after the weekly run held it: the approval is for a time now past.
            with self.pulse.db.sessions() as session:
                ran = milestones.has(session, week, milestones.WEEKLY_RUN)
            return self._send(week) if ran else JobOutcome(week, "nothing")
        if issue.status is not IssueStatus.HELD:
            return JobOutcome(week, "nothing")
        grace = timedelta(hours=self.settings.catch_up_grace_hours)
        if now > self._deadline(week) + grace:
            # The scheduler was down through the deadline: a send now would reach readers
            # days late, next to next week's issue. It stays held for an editor to decide.
            if not milestones.claim(self.pulse.db.sessions, week, milestones.DEADLINE):
                return JobOutcome(week, "nothing")
            detail = (
                f"{week} stays held: its deadline passed while the scheduler was down. "
                f"Approve it with `pulse issue approve --week {week}` (sent at the next "
                f"re-check), send it now with `pulse issue send --week {week} --yes`, or "
                f"discard it with `pulse issue discard --week {week} --reason …`."
            )
            self.notify(f"{week}: deadline passed while the scheduler was down", detail)
            return JobOutcome(week, "missed", detail)
        self._build(week)
        readiness = self._readiness(week, now)
        if readiness.ready:
            decisions.approve(self.pulse, week, "scheduler: ready on re-check")
            return self._send(week)
        if now < self._deadline(week):
            return JobOutcome(week, "waiting", readiness.as_text())
        if not milestones.claim(self.pulse.db.sessions, week, milestones.DEADLINE):
            return JobOutcome(week, "nothing")
        if self.settings.on_deadline == "send":
            decisions.approve(self.pulse, week, "scheduler: deadline reached")
            self.notify(f"{week}: deadline reached, sending what is ready", readiness.as_text())
            return self._send(week)
        decisions.discard(self.pulse, week, "scheduler", "deadline reached while not ready")
        self.notify(f"{week}: deadline reached, the week is skipped", readiness.as_text())
        return JobOutcome(week, "skipped", readiness.as_text())

    def catch_up(self, now: datetime) -> JobOutcome:
        """On start: run a send missed while down, once, if still within the grace period.

        Only the week whose send time is the latest one before ``now`` is considered, and
        only if it fell after the newsletter began (the install and the first subscriber).
        Outside the grace period nothing is built or sent: building then would take the
        content queued for next week and mail the list a week nobody prepared.
        """
        due = self.schedule.previous_send(now)
        week = self.schedule.week_at(due)
        with self.pulse.db.sessions() as session:
            already = milestones.has(session, week, milestones.WEEKLY_RUN)
            began = origin.newsletter_started_at(session)
        if already:
            return self.recheck(now)
        if began is None or due < began:
            since = (
                "there is no list yet"
                if began is None
                else f"the newsletter began {began:%Y-%m-%d %H:%M} UTC"
            )
            detail = f"nothing to catch up: {week} was due before {since}"
            log.info("%s", detail)
            return JobOutcome(week, "nothing", detail)
        late = now - due
        grace = timedelta(hours=self.settings.catch_up_grace_hours)
        local_due = f"{due.astimezone(self.schedule.zone):%a %d %b %H:%M %Z}"
        if late <= grace:
            detail = (
                f"catching up {week}: its send was due {local_due}, {_hours(late)} ago, "
                f"within the {self.settings.catch_up_grace_hours:g}-hour catch-up grace"
            )
            log.info("%s", detail)
            outcome = self.run_weekly(week, now)
            if outcome.action not in ("already-run", "nothing"):
                self.notify(f"{week}: catching up a missed send", f"{detail}\n\n{outcome.detail}")
            return JobOutcome(week, outcome.action, f"{detail}; {outcome.detail}")
        if not milestones.claim(self.pulse.db.sessions, week, milestones.MISSED):
            return JobOutcome(week, "nothing")
        detail = (
            f"{week} was not sent: the scheduler was down at send time ({local_due}, "
            f"{_hours(late)} ago, more than the {self.settings.catch_up_grace_hours:g}-hour "
            "catch-up grace). Nothing was built or sent for it; queued content stays for "
            "the next issue."
        )
        log.warning("%s", detail)
        self.notify(
            f"{week} was not sent: the scheduler was down at send time",
            f"{detail}\nTo send it anyway: pulse issue build --week {week} && "
            f"pulse issue send --week {week} --yes",
        )
        return JobOutcome(week, "missed", detail)

    # Helpers -----------------------------------------------------------------------------

    def _deadline(self, week: str) -> datetime:
        return self.schedule.send_time(week) + timedelta(hours=self.settings.hold_deadline_hours)

    def _issue(self, week: str) -> Issue | None:
        with self.pulse.db.sessions() as session:
            return find_issue(session, week)

    def _build(self, week: str) -> Issue:
        """Build the week, re-rendering an unsent issue so late content goes in.

        A rebuild keeps the status (a held issue stays held) and the approval.
        """
        existing = self._issue(week)
        rebuild = existing is not None and existing.status in UNSENT
        return weekly.build_week(self.pulse, week, rebuild=rebuild).issue

    def _readiness(self, week: str, now: datetime) -> Readiness:
        return check_week(self.pulse, week, now)

    def _send(self, week: str) -> JobOutcome:
        try:
            report = weekly.send_week(self.pulse, week, stop=self.stop)
        except SendInProgress as err:
            return JobOutcome(week, "busy", str(err))
        return send_outcome(report)


def _hours(delta: timedelta) -> str:
    """``5 h 59 min``, or ``3.2 days`` beyond two days."""
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes / 1440:.1f} days"
    return f"{minutes // 60} h {minutes % 60:02d} min"
