"""Local-time sending on the database (SQLite and PostgreSQL): waves due at their instants.

The store's ``now`` is the clock seam: each run is made at a chosen instant, so a send that
spans 21 hours is checked in milliseconds. The provider is scripted (it records each call),
the rate cap is the real shared one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.delivery.engine import SendOptions, begin_send, send_from_store
from pipeline.delivery.liveness import ProcessLiveness, process_liveness
from pipeline.delivery.models import Delivery, DeliveryStatus, SendRateEntry
from pipeline.delivery.ratelimit import SendRateLimiter, windows_for
from pipeline.delivery.report import RunEnd, SendReport
from pipeline.delivery.send_state import pause_send
from pipeline.delivery.sql_store import SqlSendStore
from pipeline.delivery.waves import wave_due, waves_of
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from tests.delivery.conftest import WEEK, seed_and_build
from tests.delivery.test_engine_decisions import Composer, ScriptedProvider

# 2026-W48 is sent on Tuesday 24 November 2026 (PULSE_SCHEDULE "tue 09:00"), at 09:00 in
# each reader's zone: the south in summer time, the north in winter time.
WAVES = [
    ("Pacific/Auckland", datetime(2026, 11, 23, 20, tzinfo=UTC)),  # NZDT, +13
    ("Australia/Lord_Howe", datetime(2026, 11, 23, 22, tzinfo=UTC)),  # LHDT, +11
    ("Asia/Kolkata", datetime(2026, 11, 24, 3, 30, tzinfo=UTC)),  # IST, +5:30
    ("Europe/London", datetime(2026, 11, 24, 9, tzinfo=UTC)),  # GMT
    (None, datetime(2026, 11, 24, 14, tzinfo=UTC)),  # the list's zone: New York, EST
    ("America/Los_Angeles", datetime(2026, 11, 24, 17, tzinfo=UTC)),  # PST
]
READERS = 12  # two per zone
SECOND = timedelta(seconds=1)


class Clock:
    """The store's notion of now, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def local_pulse(configure: Callable[..., Pulse]) -> Pulse:
    pulse = configure(PULSE_SEND_LOCAL_TIME="09:00", PULSE_TIMEZONE="America/New_York")
    seed_and_build(pulse, READERS)
    with transaction(pulse.db.sessions) as session:
        ids = list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
        for index, subscriber_id in enumerate(ids):
            zone = WAVES[index % len(WAVES)][0]
            session.execute(
                update(Subscriber).where(Subscriber.id == subscriber_id).values(timezone=zone)
            )
    return pulse


@pytest.fixture
def liveness(local_pulse: Pulse) -> Iterator[ProcessLiveness]:
    with process_liveness(local_pulse.db.engine) as held:
        yield held


def start(pulse: Pulse) -> Issue:
    issue, created = begin_send(pulse.db.sessions, WEEK, waves=pulse.schedule.wave_plan(WEEK))
    assert created == READERS
    return issue


def run_at(
    pulse: Pulse,
    issue: Issue,
    at: datetime,
    provider: ScriptedProvider,
    liveness: ProcessLiveness,
    *,
    batch_size: int = 10,
) -> SendReport:
    store = SqlSendStore(pulse.db.sessions, issue.id, liveness, now=Clock(at))
    return send_from_store(
        store,
        SendRateLimiter(pulse.db.sessions, windows_for(1000.0, None, None)),
        WEEK,
        provider,
        Composer(),
        liveness,
        options=SendOptions(batch_size=batch_size, idle_wait=0.0),
        stop=threading.Event(),
    )


def zones_of(pulse: Pulse, delivery_ids: Iterable[int]) -> list[str | None]:
    with transaction(pulse.db.sessions) as session:
        return list(
            session.scalars(
                select(Subscriber.timezone)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.id.in_(list(delivery_ids)))
            )
        )


def status_of(pulse: Pulse, issue: Issue) -> IssueStatus:
    with transaction(pulse.db.sessions) as session:
        status = session.scalar(select(Issue.status).where(Issue.id == issue.id))
    assert status is not None
    return status


def test_each_row_is_due_at_nine_in_its_readers_zone_and_numbered_in_wave_order(
    local_pulse: Pulse,
) -> None:
    start(local_pulse)
    expected = dict(WAVES)
    with transaction(local_pulse.db.sessions) as session:
        rows = session.execute(
            select(Delivery.id, Delivery.due_at, Subscriber.timezone)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .order_by(Delivery.id)
        ).all()
    assert len(rows) == READERS
    for _id, due_at, zone in rows:
        assert due_at == expected[zone]
    dues = [due_at for _id, due_at, _zone in rows]
    assert dues == sorted(dues)  # a claim in id order meets the due rows first


def test_each_wave_goes_out_at_its_instant_once_and_the_issue_is_sent_after_the_last(
    local_pulse: Pulse, liveness: ProcessLiveness
) -> None:
    issue = start(local_pulse)
    provider = ScriptedProvider()
    early = run_at(local_pulse, issue, WAVES[0][1] - SECOND, provider, liveness)
    assert provider.calls == [] and early.end is RunEnd.WAVES_PENDING
    assert early.next_wave_at == WAVES[0][1] and early.waves_pending == READERS
    for index, (zone, due) in enumerate(WAVES):
        before = len(provider.calls)
        report = run_at(local_pulse, issue, due, provider, liveness)
        wave = list(chain.from_iterable(provider.calls[before:]))
        assert zones_of(local_pulse, wave) == [zone, zone]
        assert report.sent == 2
        last = index == len(WAVES) - 1
        if last:
            assert report.end is RunEnd.FINISHED
            assert status_of(local_pulse, issue) is IssueStatus.SENT
        else:
            assert report.end is RunEnd.WAVES_PENDING
            assert report.next_wave_at == WAVES[index + 1][1]
            assert report.waves_pending == READERS - 2 * (index + 1)
            assert "waiting for the wave at" in report.describe_end()
            assert status_of(local_pulse, issue) is IssueStatus.SENDING
            # A second look just before the next wave sends nobody.
            idle = run_at(local_pulse, issue, WAVES[index + 1][1] - SECOND, provider, liveness)
            assert idle.sent == 0 and idle.end is RunEnd.WAVES_PENDING
    sent = list(chain.from_iterable(provider.calls))
    assert len(sent) == len(set(sent)) == READERS
    # Every wave reserved its messages in the shared release log the rate cap reads.
    with transaction(local_pulse.db.sessions) as session:
        assert session.scalar(select(func.sum(SendRateEntry.count))) == READERS


def test_the_waves_say_what_is_done_in_progress_and_to_come(
    local_pulse: Pulse, liveness: ProcessLiveness
) -> None:
    issue = start(local_pulse)
    run_at(local_pulse, issue, WAVES[1][1], ScriptedProvider(), liveness)
    with transaction(local_pulse.db.sessions) as session:
        waves = waves_of(session, issue.id, "America/New_York")
    assert [wave.due_at for wave in waves] == [due for _zone, due in WAVES]
    assert [wave.zones for wave in waves] == [[zone or "America/New_York"] for zone, _ in WAVES]
    now = WAVES[2][1]  # Kolkata's wave has come but not been sent yet
    assert [wave.state(now) for wave in waves] == ["done", "done", "in progress"] + ["to come"] * 3
    assert [(wave.sent, wave.done, wave.left) for wave in waves[:3]] == [
        (2, 2, 0),
        (2, 2, 0),
        (0, 0, 2),
    ]


def test_a_pause_stops_the_waves_still_to_come(
    local_pulse: Pulse, liveness: ProcessLiveness
) -> None:
    issue = start(local_pulse)
    provider = ScriptedProvider()
    run_at(local_pulse, issue, WAVES[1][1], provider, liveness)
    assert len(list(chain.from_iterable(provider.calls))) == 4
    assert pause_send(local_pulse.db.sessions, issue.id, "the editor spotted a typo")
    paused = run_at(local_pulse, issue, WAVES[-1][1], provider, liveness)
    assert paused.sent == 0 and paused.end is RunEnd.PAUSED
    assert status_of(local_pulse, issue) is IssueStatus.PAUSED
    with pytest.raises(Exception, match="paused"):
        begin_send(local_pulse.db.sessions, WEEK, waves=local_pulse.schedule.wave_plan(WEEK))
    # Resumed after every wave's time: the rest go at once, each reader once.
    begin_send(
        local_pulse.db.sessions, WEEK, resume=True, waves=local_pulse.schedule.wave_plan(WEEK)
    )
    resumed = run_at(local_pulse, issue, WAVES[-1][1] + timedelta(hours=1), provider, liveness)
    assert resumed.sent == READERS - 4 and resumed.end is RunEnd.FINISHED
    sent = list(chain.from_iterable(provider.calls))
    assert len(sent) == len(set(sent)) == READERS


def test_a_reader_who_leaves_before_their_wave_gets_nothing(
    local_pulse: Pulse, liveness: ProcessLiveness
) -> None:
    issue = start(local_pulse)
    provider = ScriptedProvider()
    run_at(local_pulse, issue, WAVES[0][1], provider, liveness)
    with transaction(local_pulse.db.sessions) as session:
        leaver = session.scalars(
            select(Subscriber).where(Subscriber.timezone == "Europe/London")
        ).first()
        assert leaver is not None
        change_status(session, leaver, SubscriberStatus.UNSUBSCRIBED, cause="unsubscribe-link")
        leaver_id = leaver.id
    report = run_at(local_pulse, issue, WAVES[3][1], provider, liveness)
    assert report.sent == 5  # Lord Howe, Kolkata, and the London reader who stayed
    with transaction(local_pulse.db.sessions) as session:
        row = session.scalars(select(Delivery).where(Delivery.subscriber_id == leaver_id)).one()
    assert row.status is DeliveryStatus.SKIPPED and row.attempts == 0


class DeadOnes(ProcessLiveness):
    """Wraps a real liveness; the owners named here are known dead (killed mid-wave)."""

    def __init__(self, inner: ProcessLiveness, dead: set[str]) -> None:
        self.inner = inner
        self.owner = inner.owner
        self.dead = dead

    def dead_among(self, session: Session, owners: Iterable[str | None]) -> set[str]:
        return {owner for owner in owners if owner in self.dead}

    def release(self) -> None:
        pass


def test_a_wave_killed_mid_batch_is_resumed_whole_and_exactly_once(
    local_pulse: Pulse, liveness: ProcessLiveness
) -> None:
    issue = start(local_pulse)
    provider = ScriptedProvider()
    due = WAVES[3][1]  # by London's wave, four readers are due
    run_at(local_pulse, issue, WAVES[0][1], provider, liveness)
    # A sender claims a batch of the due rows, then dies before the provider answers.
    ghost = DeadOnes(liveness, set())
    ghost.owner = "host:1:dead"
    killed = SqlSendStore(local_pulse.db.sessions, issue.id, ghost, now=Clock(due))
    claim = killed.claim(3, lease_seconds=300, dead_owners=())
    assert claim is not None and len(claim.batch.rows) == 3
    crashed = claim.batch.ids
    assert "America/Los_Angeles" not in zones_of(local_pulse, crashed)  # not due yet
    # The next run takes the batch back whole (same rows, same key), then the rest due.
    survivor = DeadOnes(liveness, {"host:1:dead"})
    report = run_at(local_pulse, issue, due, provider, survivor)
    after_first_wave = provider.calls[1:]
    assert after_first_wave[0] == crashed
    assert report.sent == 6 and report.end is RunEnd.WAVES_PENDING
    # The rest of the send, and nobody twice.
    run_at(local_pulse, issue, WAVES[-1][1], provider, liveness)
    sent = list(chain.from_iterable(provider.calls))
    assert len(sent) == len(set(sent)) == READERS
    assert status_of(local_pulse, issue) is IssueStatus.SENT


def test_a_wave_is_due_once_its_instant_has_come_and_not_for_rows_waiting_to_retry(
    local_pulse: Pulse,
) -> None:
    issue = start(local_pulse)

    def due_at(now: datetime) -> bool:
        with transaction(local_pulse.db.sessions) as session:
            return session.scalar(select(Issue.id).where(wave_due(Issue.id, now))) == issue.id

    first = WAVES[0][1]
    assert not due_at(first - SECOND) and due_at(first)
    with transaction(local_pulse.db.sessions) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.due_at == first)
            .values(not_before=first + timedelta(minutes=5), retries=1)
        )
    assert not due_at(first + SECOND)  # refused for now: the retry schedule's, not a wave's
    assert due_at(first + timedelta(minutes=5))
