"""Local-time sending through the weekly job, the worker and the CLI.

The job's steps take ``now`` (the clock seam); the claims they start read the real clock,
so the week is one far in the future: no wave is due yet whenever this runs, and each step
is checked for what it starts, leaves waiting and reports (the instants themselves, and
each wave going out at its own, are tests/delivery/test_waves.py's).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler.job import WeeklyJob
from pipeline.wiring import Pulse
from pipeline.workflow import decisions
from pipeline.workflow.worker import run_worker
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.conftest import Cli, MakePulse
from tests.harness.seed import seed_week_of
from tests.scheduler.conftest import RecordingNotifier

WEEK = "2036-W11"  # Tuesday 11 March 2036
AUCKLAND = datetime(2036, 3, 10, 20, tzinfo=UTC)  # 09:00 NZDT (+13)
LOS_ANGELES = datetime(2036, 3, 11, 16, tzinfo=UTC)  # 09:00 PDT (-7; the US changed Mar 9)


@pytest.fixture
def local(make_pulse: MakePulse) -> Pulse:
    pulse = make_pulse(send_local_time="09:00")
    seed_week_of(pulse, 6, WEEK, established=True)
    with transaction(pulse.db.sessions) as session:
        ids = list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
        for index, subscriber_id in enumerate(ids):
            zone = "Pacific/Auckland" if index % 2 else "America/Los_Angeles"
            session.execute(
                update(Subscriber).where(Subscriber.id == subscriber_id).values(timezone=zone)
            )
    return pulse


def issue_status(pulse: Pulse) -> IssueStatus:
    with transaction(pulse.db.sessions) as session:
        status = session.scalar(select(Issue.status).where(Issue.week_key == WEEK))
    assert status is not None
    return status


def rows(pulse: Pulse, status: DeliveryStatus | None = None) -> int:
    query = select(func.count()).select_from(Delivery)
    if status is not None:
        query = query.where(Delivery.status == status)
    with transaction(pulse.db.sessions) as session:
        return int(session.scalar(query) or 0)


def test_the_weekly_run_starts_the_send_when_the_first_zone_reaches_the_time(
    local: Pulse,
) -> None:
    job = WeeklyJob(local, local.schedule, RecordingNotifier())
    start = local.schedule.send_time(WEEK)
    assert start == datetime(2036, 3, 10, 19, tzinfo=UTC)  # 09:00 at UTC+14
    outcome = job.run_due(start)
    assert outcome.action == "waiting-for-wave"
    assert "waiting for the wave at 2036-03-10 20:00 UTC" in outcome.detail
    assert issue_status(local) is IssueStatus.SENDING  # never "sent" while waves remain
    assert rows(local) == 6 and rows(local, DeliveryStatus.SENT) == 0
    assert job.run_due(start + timedelta(minutes=1)).action == "already-run"
    # The 30-second look: nothing before the first wave, the send once it has come.
    assert job.send_waves(AUCKLAND - timedelta(seconds=1)) == []
    [picked] = job.send_waves(AUCKLAND)
    assert picked.week == WEEK and picked.action == "waiting-for-wave"
    assert any(o.action == "waiting-for-wave" for o in job.tick(LOS_ANGELES))


def test_a_pause_leaves_the_waves_to_come_alone_and_an_idle_worker_changes_nothing(
    local: Pulse,
) -> None:
    job = WeeklyJob(local, local.schedule, RecordingNotifier())
    job.run_due(local.schedule.send_time(WEEK))
    run_worker(local, exit_when_idle=True, poll_seconds=0)
    assert issue_status(local) is IssueStatus.SENDING  # an idle exit does not end the send
    decisions.pause(local, WEEK, "checking a salary row")
    assert job.send_waves(LOS_ANGELES) == []
    assert issue_status(local) is IssueStatus.PAUSED
    assert rows(local, DeliveryStatus.PENDING) == 6


def test_without_the_setting_the_send_time_is_the_schedules(make_pulse: MakePulse) -> None:
    pulse = make_pulse()
    assert pulse.schedule.wave_plan(WEEK) is None
    assert pulse.schedule.send_time(WEEK) == datetime(2036, 3, 11, 13, tzinfo=UTC)  # 09:00 EDT


def test_status_lists_the_waves_and_pause_names_its_reason(local: Pulse, cli: Cli) -> None:
    WeeklyJob(local, local.schedule, RecordingNotifier()).run_due(local.schedule.send_time(WEEK))
    shown = cli("issue", "status", "--week", WEEK)
    assert shown.exit_code == 0
    assert (
        "waves: 0 done, 0 in progress, 2 to come; the next at 2036-03-10 20:00 UTC"
        in shown.stdout
    )
    assert "2036-03-10 20:00" in shown.stdout and "Pacific/Auckland" in shown.stdout
    assert "2036-03-11 16:00" in shown.stdout and "America/Los_Angeles" in shown.stdout
    assert shown.stdout.count("to come") == 3  # the summary line and both waves
    sent = cli("issue", "send", "--week", WEEK, "--yes")
    assert sent.exit_code == 3 and "waiting for the wave at" in sent.stderr
    paused = cli("issue", "pause", "--week", WEEK, "--reason", "a typo in the lead")
    assert paused.exit_code == 0
    assert "paused because: a typo in the lead" in cli("issue", "status", "--week", WEEK).stdout
    again = cli("issue", "pause", "--week", WEEK)
    assert again.exit_code == 1 and "is not sending" in again.stderr


@pytest.mark.parametrize("reason", ["", "line\r\nBcc: x@example.com", "x" * 301])
def test_a_pause_reason_is_one_short_line(local: Pulse, cli: Cli, reason: str) -> None:
    WeeklyJob(local, local.schedule, RecordingNotifier()).run_due(local.schedule.send_time(WEEK))
    result = cli("issue", "pause", "--week", WEEK, "--reason", reason)
    assert result.exit_code != 0 and "reason" in result.stderr
    assert issue_status(local) is IssueStatus.SENDING
