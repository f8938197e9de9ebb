"""Issue 21: install, demo, first scheduler start, a week of ticks — only due weeks go out.

The clock is a seam: the demo runs at the real time (that is the install), then the job is
driven through the following seven days exactly as APScheduler would (the cron trigger at
each send time, a tick every ``PULSE_RECHECK_MINUTES``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from pipeline.config import load_settings
from pipeline.content import queue
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.schedule import WeeklySchedule
from pipeline.scheduler.job import WeeklyJob
from pipeline.weeks import WEEKDAYS
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.conftest import Cli, Workspace
from tests.scheduler.conftest import RecordingNotifier

READERS = 15


def queue_next_week(pulse: Pulse, week: str) -> None:
    """What an editor prepares for the coming issue after the demo went out."""
    with transaction(pulse.db.sessions) as session:
        for section in ("editors-note", "role-insights"):
            queue.add_snippet(
                session, section=section, title=f"{section} for {week}", target_week=week
            )
        queue.add_job(
            session,
            company="Acme AI",
            title="Staff Solutions Engineer",
            location="Remote",
            url=f"https://jobs.example.com/{week}",
        )


@pytest.mark.parametrize(
    "last_send_ago",
    [timedelta(hours=1), timedelta(hours=5), timedelta(days=3), timedelta(days=6, hours=23)],
    ids=["1h", "5h", "3d", "6d23h"],
)
def test_first_week_sends_exactly_the_weeks_that_were_due_each_once(
    cli: Cli,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    last_send_ago: timedelta,
) -> None:
    installed = datetime.now(UTC).replace(second=0, microsecond=0)
    zone = "America/New_York"
    local_last = (installed - last_send_ago).astimezone(ZoneInfo(zone))
    monkeypatch.setenv("PULSE_SCHEDULE", f"{WEEKDAYS[local_last.weekday()]} {local_last:%H:%M}")
    monkeypatch.setenv("PULSE_TIMEZONE", zone)
    monkeypatch.setenv("PULSE_RECHECK_MINUTES", "60")

    demo = cli("demo", "--subscribers", str(READERS))
    assert demo.exit_code == 0, demo.stderr
    pulse = Pulse(load_settings())
    notifier = RecordingNotifier()
    job = WeeklyJob(pulse, WeeklySchedule.parse(pulse.settings.schedule, zone), notifier)
    with pulse.db.sessions() as session:
        demo_week = session.scalars(select(Issue.week_key)).one()
    next_due = job.schedule.next_send(installed)
    next_week = job.schedule.week_at(next_due)
    if next_week != demo_week:
        queue_next_week(pulse, next_week)

    start = installed + timedelta(minutes=2)
    outcomes = [job.catch_up(start)]
    moment = start
    while moment < installed + timedelta(days=7):
        following = moment + timedelta(minutes=60)
        if moment < next_due <= following:
            outcomes.append(job.run_due(next_due))
        outcomes.extend(job.tick(following))
        moment = following

    # Due in this week: the demo's issue (sent by the demo) and the next send, unless that
    # falls in the demo's own ISO week (then the demo already sent it).
    expected = {demo_week} | {next_week}
    with pulse.db.sessions() as session:
        issues = list(session.scalars(select(Issue).order_by(Issue.number)))
        assert {i.week_key for i in issues} == expected, outcomes
        assert all(i.status is IssueStatus.SENT for i in issues)
        assert [i.week_key for i in issues] == sorted(i.week_key for i in issues)
        for issue in issues:
            per_reader = session.execute(
                select(Delivery.subscriber_id, func.count())
                .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT)
                .group_by(Delivery.subscriber_id)
            ).all()
            assert len(per_reader) == READERS and {n for _, n in per_reader} == {1}
    assert sorted(
        p.name for p in workspace.outbox.iterdir() if p.name != "transactional"
    ) == sorted(expected)
    assert not any(o.action in ("missed", "held") for o in outcomes), outcomes
    assert outcomes[0].action == "nothing" and "before the newsletter began" in outcomes[0].detail
    pulse.close()
