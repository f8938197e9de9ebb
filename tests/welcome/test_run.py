"""The series end to end on the clock seam: each step once, stopped when it should be."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.delivery.models import DeliveryStatus
from pipeline.welcome.models import WelcomeSend
from pipeline.wiring import Pulse
from pipeline.workflow.welcome import reader_welcome_status, run_welcome_series, welcome_status
from pulse_core.database import transaction
from subscribers.context import SubscriberContext
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.preferences import pause, unsubscribe
from subscribers.privacy import erase
from subscribers.service import add_subscriber
from tests.welcome.conftest import Clock, SeriesOutbox, confirmed_reader

pytestmark = pytest.mark.usefixtures("workspace")
STEPS = ("welcome", "start-here", "your-role")


def sent_steps(pulse: Pulse, subscriber_id: int) -> dict[str, DeliveryStatus]:
    with transaction(pulse.db.sessions) as session:
        rows = session.scalars(
            select(WelcomeSend).where(WelcomeSend.subscriber_id == subscriber_id)
        )
        return {row.step: row.status for row in rows}


def run_week(pulse: Pulse, at: Clock) -> list[int]:
    """Passes every few hours over nine days, as the scheduler would (but in seconds)."""
    sent = []
    for hours in range(0, 9 * 24, 5):
        sent.append(run_welcome_series(pulse, at(hours=hours, minutes=1)).sent)
    return sent


def test_the_whole_series_goes_out_once_each_step_on_time(
    series_pulse: Pulse, series_outbox: SeriesOutbox, at: Clock
) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    first = run_welcome_series(series_pulse, at(minutes=1))
    assert [(s.step, s.sent) for s in first.steps] == [
        ("welcome", 1),
        ("start-here", 0),
        ("your-role", 0),
    ]
    # Nothing more until two days have passed, then start-here; your-role after seven.
    assert run_welcome_series(series_pulse, at(days=1, hours=23)).sent == 0
    assert sent_steps(series_pulse, reader) == {"welcome": DeliveryStatus.SENT}
    assert run_welcome_series(series_pulse, at(days=2, minutes=1)).sent == 1
    assert run_welcome_series(series_pulse, at(days=6, hours=23)).sent == 0
    assert run_welcome_series(series_pulse, at(days=7, minutes=1)).sent == 1
    # Any number of later passes sends nothing again.
    assert sum(run_week(series_pulse, at)) == 0
    assert sent_steps(series_pulse, reader) == dict.fromkeys(STEPS, DeliveryStatus.SENT)
    for step in STEPS:
        assert len(series_outbox.to(step, "ada@example.com")) == 1


def test_the_single_welcome_email_is_not_sent_beside_the_series(
    series_pulse: Pulse, workspace: object, series_outbox: SeriesOutbox, at: Clock
) -> None:
    confirmed_reader(series_pulse, "ada@example.com")
    transactional = series_outbox.root / "transactional"
    welcomes = [p for p in transactional.glob("*.eml") if b"Welcome" in p.read_bytes()]
    assert welcomes == []


def test_the_single_welcome_stays_when_the_series_is_off(
    make_pulse: object, series_outbox: SeriesOutbox, at: Clock
) -> None:
    pulse = make_pulse(welcome_series="")  # type: ignore[operator]
    confirmed_reader(pulse, "ada@example.com")
    report = run_welcome_series(pulse, at(minutes=1))
    assert report.deferred and "off" in report.deferred
    welcome = [
        p
        for p in (series_outbox.root / "transactional").glob("*.eml")
        if b"Welcome" in p.read_bytes()
    ]
    assert len(welcome) == 1
    assert series_outbox.messages("welcome") == []


def test_unsubscribing_stops_the_series(series_pulse: Pulse, at: Clock) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    run_welcome_series(series_pulse, at(minutes=1))
    unsubscribe(series_pulse.subscribers, reader, cause="unsubscribe:one-click")
    run_week(series_pulse, at)
    assert sent_steps(series_pulse, reader) == {"welcome": DeliveryStatus.SENT}
    states = {
        s.step.key: s.state
        for s in reader_welcome_status(series_pulse, "ada@example.com", at(days=8))
    }
    assert states == {"welcome": "sent", "start-here": "stopped", "your-role": "stopped"}


def test_a_suppressed_or_erased_reader_gets_nothing_more(series_pulse: Pulse, at: Clock) -> None:
    bounced = confirmed_reader(series_pulse, "bounced@example.com")
    erased = confirmed_reader(series_pulse, "erased@example.com")
    run_welcome_series(series_pulse, at(minutes=1))
    ctx: SubscriberContext = series_pulse.subscribers
    with transaction(series_pulse.db.sessions) as session:
        subscriber = session.get(Subscriber, bounced)
        assert subscriber is not None
        subscriber.status = SubscriberStatus.BOUNCED
        doomed = session.get(Subscriber, erased)
        assert doomed is not None
        erase(session, doomed, ctx.leaving, ctx.erasure_hooks)
    run_week(series_pulse, at)
    assert sent_steps(series_pulse, bounced) == {"welcome": DeliveryStatus.SENT}
    # Erasure takes the person's series rows too, and nothing is sent to the tombstone.
    assert sent_steps(series_pulse, erased) == {}


def test_a_pause_holds_a_step_which_goes_after_if_still_fresh(
    series_pulse: Pulse, at: Clock
) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    run_welcome_series(series_pulse, at(minutes=1))
    pause(series_pulse.subscribers, reader, weeks=1)  # until start + 7 days
    for hours in range(0, 7 * 24 - 1, 6):
        run_welcome_series(series_pulse, at(hours=hours, minutes=2))
    # start-here was due on day 2 but the reader was paused; by day 7 it is stale (and
    # your-role is due), so only your-role goes once the pause is over.
    assert sent_steps(series_pulse, reader) == {"welcome": DeliveryStatus.SENT}
    assert run_welcome_series(series_pulse, at(days=7, hours=1)).sent == 1
    assert sent_steps(series_pulse, reader) == {
        "welcome": DeliveryStatus.SENT,
        "your-role": DeliveryStatus.SENT,
    }


def test_after_a_long_outage_no_burst_of_stale_steps(series_pulse: Pulse, at: Clock) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    # The scheduler was down for three days: welcome is stale (start-here is due).
    report = run_welcome_series(series_pulse, at(days=3))
    assert report.sent == 1
    assert sent_steps(series_pulse, reader) == {"start-here": DeliveryStatus.SENT}
    # Down again past your-role's freshness: nothing at all.
    assert run_welcome_series(series_pulse, at(days=7 + 3)).sent == 0
    status = welcome_status(series_pulse, at(days=10))
    assert {s.step.key: s.missed for s in status.steps} == {
        "welcome": 1,
        "start-here": 0,
        "your-role": 1,
    }


def test_imported_and_added_readers_are_not_welcomed(series_pulse: Pulse, at: Clock) -> None:
    with transaction(series_pulse.db.sessions) as session:
        add_subscriber(
            session, "moved@example.com", consent_text="imported", consent_source="import"
        )
    assert run_welcome_series(series_pulse, at(minutes=1)).sent == 0
    states = reader_welcome_status(series_pulse, "moved@example.com", at(minutes=1))
    assert {s.state for s in states} == {"not-in-series"}


def test_readers_confirmed_before_the_series_began_are_not_mailed(
    series_pulse: Pulse, at: Clock
) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    with transaction(series_pulse.db.sessions) as session:
        from pipeline.welcome.models import WelcomeSeriesStart

        start = session.get(WelcomeSeriesStart, 1)
        assert start is not None
        start.started_at = at(minutes=5)  # the upgrade came after this reader confirmed
    assert run_welcome_series(series_pulse, at(minutes=10)).sent == 0
    assert sent_steps(series_pulse, reader) == {}


def test_nothing_goes_in_the_weekly_issues_hour(make_pulse: object, at: Clock) -> None:
    moment = at(minutes=1)
    send_at = (moment + timedelta(minutes=30)).replace(second=0, microsecond=0)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[send_at.weekday()]
    pulse: Pulse = make_pulse(  # type: ignore[operator]
        schedule=f"{weekday} {send_at:%H}:{send_at:%M}", timezone="UTC"
    )
    reader = confirmed_reader(pulse, "ada@example.com")
    held = run_welcome_series(pulse, moment)
    assert held.deferred and "weekly issue" in held.deferred
    assert run_welcome_series(pulse, send_at + timedelta(minutes=59)).deferred
    # An hour after the send the welcome goes, still fresh.
    assert run_welcome_series(pulse, send_at + timedelta(hours=1, minutes=1)).sent == 1
    assert sent_steps(pulse, reader) == {"welcome": DeliveryStatus.SENT}


def test_status_counts_where_each_step_stands(series_pulse: Pulse, at: Clock) -> None:
    confirmed_reader(series_pulse, "a@example.com")
    confirmed_reader(series_pulse, "b@example.com")
    gone = confirmed_reader(series_pulse, "c@example.com")
    before = welcome_status(series_pulse, at(minutes=1))
    assert [(s.step.key, s.due, s.waiting) for s in before.steps] == [
        ("welcome", 3, 0),
        ("start-here", 0, 3),
        ("your-role", 0, 3),
    ]
    run_welcome_series(series_pulse, at(minutes=1))
    unsubscribe(series_pulse.subscribers, gone, cause="unsubscribe:one-click")
    after = {s.step.key: s for s in welcome_status(series_pulse, at(days=2, minutes=1)).steps}
    assert after["welcome"].sent == 3
    assert (after["start-here"].due, after["start-here"].stopped) == (2, 1)
    assert after["your-role"].waiting == 2


def test_nothing_goes_while_an_issue_sends_nor_within_the_hour_after(
    series_pulse: Pulse, at: Clock
) -> None:
    from pipeline.issues.models import Issue, IssueStatus

    reader = confirmed_reader(series_pulse, "ada@example.com")
    moment = at(minutes=1)
    with transaction(series_pulse.db.sessions) as session:
        session.add(
            Issue(
                week_key="2026-W40",
                number=1,
                subject="Held, approved and sent late",
                preheader="",
                status=IssueStatus.SENDING,
                mjml="",
                html="",
                text="",
            )
        )
    sending = run_welcome_series(series_pulse, moment)
    assert sending.deferred == "issue 2026-W40 is sending"
    with transaction(series_pulse.db.sessions) as session:
        issue = session.scalar(select(Issue))
        assert issue is not None
        issue.status, issue.sent_at = IssueStatus.SENT, moment - timedelta(minutes=30)
    assert run_welcome_series(series_pulse, moment).deferred
    assert run_welcome_series(series_pulse, moment + timedelta(minutes=31)).sent == 1
    assert sent_steps(series_pulse, reader) == {"welcome": DeliveryStatus.SENT}


def test_a_returning_reader_gets_only_the_steps_they_never_had(
    series_pulse: Pulse, at: Clock
) -> None:
    from subscribers.preferences import resubscribe
    from subscribers.signup import confirm

    reader = confirmed_reader(series_pulse, "ada@example.com")
    run_welcome_series(series_pulse, at(minutes=1))
    ctx = series_pulse.subscribers
    unsubscribe(ctx, reader, cause="unsubscribe:one-click")
    resubscribe(ctx, reader)  # pending again: a fresh confirmation is needed
    confirm(ctx, ctx.signer.confirm_token(reader))
    # Confirmed again (now, on the real clock): welcome is not repeated, the rest follow.
    run_welcome_series(series_pulse, at(minutes=2))
    assert sent_steps(series_pulse, reader) == {"welcome": DeliveryStatus.SENT}
    run_welcome_series(series_pulse, at(days=2, minutes=2))
    assert sent_steps(series_pulse, reader) == {
        "welcome": DeliveryStatus.SENT,
        "start-here": DeliveryStatus.SENT,
    }
