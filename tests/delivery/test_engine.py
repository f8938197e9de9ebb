"""The engine's decisions: rate caps, backoff, circuit breaker, leaving mid-send, headers."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.headerregistry import Address

import pytest
from sqlalchemy import select

from pipeline.delivery.breaker import BreakerThresholds
from pipeline.delivery.engine import SendOptions, begin_send, run_send
from pipeline.delivery.message import Batch, Recipient, build_mime, check_header_value
from pipeline.delivery.models import Delivery, DeliveryStatus, SendHold, SendRateEntry
from pipeline.delivery.providers.http import retry_after_seconds
from pipeline.delivery.ratelimit import (
    SendRateLimiter,
    Window,
    batch_size_for,
    earliest_start,
    windows_for,
)
from pipeline.delivery.retry import RetryPolicy
from pipeline.errors import ValidationError
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.events.send_health import event_figures
from pipeline.issues.merge import MergeTemplate
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from tests.conftest import Workspace
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import Call, FakePostmark, Fault

# Rate caps ---------------------------------------------------------------------------


def test_sliding_window_waits_for_the_oldest_release_to_leave() -> None:
    window = [Window(1.0, 100)]
    assert earliest_start([], window, 50, now=10.0) == 10.0
    assert earliest_start([(9.5, 50)], window, 50, now=10.0) == 10.0
    assert earliest_start([(9.5, 50), (9.8, 50)], window, 50, now=10.0) == pytest.approx(10.5)
    assert earliest_start([(9.0, 100)], window, 1, now=10.0) == 10.0


def test_hourly_and_daily_caps_hold_back_a_batch() -> None:
    windows = windows_for(None, hourly=1000, daily=5000)
    assert earliest_start([(0.0, 1000)], windows, 10, now=100.0) == pytest.approx(3600.0)
    day = [(float(h * 3600), 1000) for h in range(5)]
    assert earliest_start(day, windows, 10, now=5 * 3600.0) == pytest.approx(86_400.0)


def test_batch_size_fills_the_rate_cap_evenly() -> None:
    assert batch_size_for(100, 30) == 25
    assert batch_size_for(1000, 500) == 500
    assert batch_size_for(7, 500) == 7
    assert batch_size_for(0.5, 500) == 1
    assert batch_size_for(None, 500) == 500


def test_releases_never_exceed_the_cap_in_any_one_second_window(
    configure: Callable[..., Pulse],
) -> None:
    """The cap holds on the shared release log; how close the rate comes to it is timing,
    measured in bench/rate_accuracy.py (tests never assert wall-clock rates)."""
    cap, batch = 150, 50
    with FakePostmark(validate=False) as fake:
        pulse = configure(
            **provider_env(fake),
            PULSE_SEND_RATE=str(cap),
            PULSE_SEND_CONCURRENCY="2",
            PULSE_BATCH_SIZE=str(batch),
        )
        seed_and_build(pulse, 6 * cap)
        weekly.send_week(pulse, WEEK)
        calls = list(fake.calls)
    with transaction(pulse.db.sessions) as session:
        releases = sorted(session.execute(select(SendRateEntry.at, SendRateEntry.count)).all())
    assert sum(call.recipients for call in calls) == sum(n for _at, n in releases) == 6 * cap
    for i, (first, _n) in enumerate(releases):
        assert sum(n for at, n in releases[i:] if at < first + 1.0) <= cap


# Retries -----------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_honours_the_providers_hint() -> None:
    rng = random.Random(1)
    policy = RetryPolicy(backoff_base=1.0, backoff_max=60.0)
    delays = [policy.backoff(n, rng=rng) for n in range(8)]
    assert all(2**n / 2 <= d <= 2**n for n, d in enumerate(delays[:5]))
    assert max(delays) <= 60.0
    assert policy.backoff(0, hint=30.0, rng=rng) == 30.0
    assert policy.backoff(0, hint=5000.0, rng=rng) == policy.max_hint


def test_retry_after_hints_are_read_in_every_documented_form() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds({"Retry-After": "7"}, now) == 7.0
    assert retry_after_seconds({"Retry-After": "Fri, 15 Jan 2027 08:00:10 GMT"}, 0) > 0
    assert retry_after_seconds({"X-RateLimit-Reset": str(int(now) + 12)}, now) == 12.0
    assert retry_after_seconds({"X-RateLimit-Reset": "3"}, now) == 3.0
    assert retry_after_seconds({}, now) is None
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None


# The circuit breaker and people leaving mid-send --------------------------------------


def small_batches(**overrides: object) -> SendOptions:
    values: dict[str, object] = {
        "batch_size": 10,
        "breaker": BreakerThresholds(hard_bounce_rate=0.05, complaint_rate=0.001, min_sent=10),
        "breaker_interval": 0.0,
        "read_events": event_figures,
    }
    return SendOptions(**(values | overrides))  # type: ignore[arg-type]


def record_events(pulse: Pulse, kind: EventType, count: int) -> None:
    with transaction(pulse.db.sessions) as session:
        sent = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.SENT).limit(count)
        )
        for delivery in sent:
            session.add(
                ProviderEvent(
                    provider="postmark",
                    event_key=f"{kind.value}-{delivery.id}",
                    type=kind,
                    bounce_kind=BounceKind.HARD if kind is EventType.BOUNCED else None,
                    delivery_id=delivery.id,
                    subscriber_id=delivery.subscriber_id,
                    occurred_at=utcnow(),
                    received_at=utcnow(),
                    raw="{}",
                )
            )


@pytest.mark.parametrize(
    ("kind", "count", "words"),
    [(EventType.BOUNCED, 2, "hard bounce rate"), (EventType.COMPLAINED, 1, "complaint rate")],
)
def test_circuit_breaker_pauses_a_send_that_bounces_or_draws_complaints(
    configure: Callable[..., Pulse], kind: EventType, count: int, words: str
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 60)
        issue, _ = begin_send(pulse.db.sessions, WEEK)
        provider = pulse.provider()

        def webhook_arrives(outcome: Counter[str]) -> None:
            if outcome["sent"] == 20:
                record_events(pulse, kind, count)

        report = run_send(
            pulse.db.sessions,
            issue,
            provider,
            pulse.identity,
            pulse.signer,
            options=small_batches(),
            on_progress=webhook_arrives,
        )
        provider.close()
    assert report.paused_reason is not None and words in report.paused_reason
    assert report.sent == 20 and fake.accepted.total() == 20
    with transaction(pulse.db.sessions) as session:
        stored = session.get(Issue, issue.id)
        assert stored is not None and stored.status is IssueStatus.PAUSED
        assert words in (stored.pause_reason or "")


def test_unsubscribe_mid_send_takes_effect_before_the_next_batch(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 40)
        issue, _ = begin_send(pulse.db.sessions, WEEK)
        with transaction(pulse.db.sessions) as session:
            last = session.scalars(select(Subscriber).order_by(Subscriber.id.desc())).first()
            assert last is not None
        provider = pulse.provider()

        def leaves(outcome: Counter[str]) -> None:
            if outcome["sent"] == 10:
                with transaction(pulse.db.sessions) as session:
                    subscriber = session.get(Subscriber, last.id)
                    assert subscriber is not None
                    change_status(
                        session, subscriber, SubscriberStatus.UNSUBSCRIBED, cause="unsubscribe"
                    )

        report = run_send(
            pulse.db.sessions,
            issue,
            provider,
            pulse.identity,
            pulse.signer,
            options=small_batches(),
            on_progress=leaves,
        )
        provider.close()
    assert report.finished and report.sent == 39
    assert last.email.lower() not in fake.accepted
    with transaction(pulse.db.sessions) as session:
        delivery = session.scalar(select(Delivery).where(Delivery.subscriber_id == last.id))
        assert delivery is not None and delivery.status is DeliveryStatus.SKIPPED


# Messages ----------------------------------------------------------------------------


def one_recipient_batch(name: str | None, subject: str = "Issue #1") -> tuple[Batch, Recipient]:
    recipient = Recipient(
        delivery_id=7,
        email="eve@example.com",
        name=name,
        message_id="<pulse.2026-W48.7@example.com>",
        values={"unsubscribe_url": "https://x/u/t", "preferences_url": "https://x/p/t"},
        headers={"List-Unsubscribe": "<https://x/u/t>"},
    )
    batch = Batch(
        key=WEEK,
        subject=subject,
        sender=Address("AISE Pulse Brief", "pulse", "example.com"),
        html=MergeTemplate.parse("<p>hi</p>"),
        text=MergeTemplate.parse("hi"),
        recipients=[recipient],
    )
    return batch, recipient


def test_header_injection_through_a_subject_or_header_is_refused() -> None:
    with pytest.raises(ValidationError):
        check_header_value("Subject", "Hello\r\nBcc: victim@example.com")
    batch, recipient = one_recipient_batch(None, subject="Hi\nBcc: victim@example.com")
    with pytest.raises(ValidationError):
        build_mime(batch, recipient)


def test_a_subscriber_name_cannot_inject_headers(configure: Callable[..., Pulse]) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 3)
        with transaction(pulse.db.sessions) as session:
            subscriber = session.scalars(select(Subscriber)).first()
            assert subscriber is not None
            subscriber.first_name = "Eve\r\nBcc: victim@example.com\x07"
            email = subscriber.email.lower()
        report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == 3
    (message,) = fake.messages[email]
    assert "\r" not in message["To"] and "\n" not in message["To"]
    assert "victim@example.com" not in fake.accepted
    assert not any(h["Name"].lower() == "bcc" for h in message["Headers"])


# A provider's "slow down" is heard by every sender -----------------------------------------

HOLD = 2.0  # the Retry-After the fake answers with


def hold_ends(pulse: Pulse) -> float:
    with transaction(pulse.db.sessions) as session:
        (until,) = session.scalars(select(SendHold.until)).all()
    return until


def calls_during_hold(pulse: Pulse, calls: list[Call]) -> list[Call]:
    """Requests that reached the provider while the recorded hold was in force."""
    until = hold_ends(pulse)
    started = until - HOLD  # the hold runs HOLD seconds from when the 429 came back
    return [call for call in calls if started < call.at < until]


def test_a_429_with_retry_after_makes_every_send_thread_wait(
    configure: Callable[..., Pulse],
) -> None:
    threads = 4
    with FakePostmark(latency=0.02) as fake:
        pulse = configure(
            **provider_env(fake), PULSE_SEND_CONCURRENCY=str(threads), PULSE_BATCH_SIZE="5"
        )
        seed_and_build(pulse, 200)
        fake.faults.append(Fault("status", 429, {"Retry-After": str(int(HOLD))}))
        report = weekly.send_week(pulse, WEEK)
        calls = list(fake.calls)
    assert report.finished and set(fake.accepted.values()) == {1} and len(fake.accepted) == 200
    # Only requests already past their check when the answer came can arrive during the
    # hold: at most one per other thread. Without sharing, the other threads would have sent
    # about half the list (19 of 40 batches) in those two seconds.
    assert len(calls_during_hold(pulse, calls)) <= threads - 1
    assert len(calls) == 40


def test_a_429_seen_by_one_process_holds_back_a_worker_in_another(
    configure: Callable[..., Pulse], workspace: Workspace
) -> None:
    threads = 2
    with FakePostmark(latency=0.05) as fake:
        env = {
            **provider_env(fake),
            "PULSE_SEND_CONCURRENCY": str(threads),
            "PULSE_BATCH_SIZE": "5",
        }
        pulse = configure(**env)
        seed_and_build(pulse, 400)
        begin_send(pulse.db.sessions, WEEK)
        worker = subprocess.Popen(
            [
                *[sys.executable, "-c", "from pipeline.cli import main; main()"],
                *["worker", "--exit-when-idle", "--poll", "0.2"],
            ],
            env={**os.environ, **workspace.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(fake.calls) < 2 and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        # The worker is sending; this process hears a 429 and records the hold.
        SendRateLimiter(pulse.db.sessions, []).hold(HOLD, "postmark: rate limited (429)")
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        calls = list(fake.calls)
    # At most the worker's requests already on their way; then nothing until the hold ends.
    assert len(calls_during_hold(pulse, calls)) <= threads
    assert any(call.at >= hold_ends(pulse) for call in calls)  # it was mid-send, and went on
    assert len(fake.accepted) == 400 and set(fake.accepted.values()) == {1}


def test_a_hold_recorded_elsewhere_blocks_reservations_until_it_ends(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    now = [1_000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    other = SendRateLimiter(pulse.db.sessions, [], clock=lambda: now[0])
    mine = SendRateLimiter(pulse.db.sessions, [], clock=lambda: now[0], sleep=sleep)
    other.hold(3.5, "429")
    assert mine.wait_turn(10) and sum(slept) == pytest.approx(3.5)
    assert mine.held_until() is None
    other.hold(30.0, "429 again")
    assert not mine.wait_turn(10, stop=lambda: now[0] > 1_010.0)  # a stop ends the wait


def test_a_hold_that_ends_while_it_is_being_read_is_not_slept_negatively(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    readings = iter([1_000.0, 1_000.0, 1_002.0])  # write, read (held), then the clock moves on
    now = [1_000.0]

    def clock() -> float:
        now[0] = next(readings, now[0])
        return now[0]

    slept: list[float] = []
    limiter = SendRateLimiter(pulse.db.sessions, [], clock=clock, sleep=slept.append)
    limiter.hold(1.0, "429")
    assert limiter.wait_out_holds()
    assert slept and min(slept) >= 0


def test_a_hold_binds_this_process_s_threads_before_its_commit_lands(
    configure: Callable[..., Pulse],
) -> None:
    """A slow commit (busy disk, SQLite's one writer) must not let this process's threads
    send on: the thread that heard the 429 tells them in memory, others learn at commit."""
    pulse = configure()
    refused: list[float] = []
    mine = SendRateLimiter(pulse.db.sessions, [], sleep=refused.append)
    elsewhere = SendRateLimiter(pulse.db.sessions, [])
    postgres = pulse.db.engine.dialect.name == "postgresql"
    with pulse.db.engine.connect() as blocker:
        # Another writer holds the table: the hold's INSERT waits; reads still go through.
        if postgres:
            blocker.exec_driver_sql("LOCK TABLE send_holds IN EXCLUSIVE MODE")
        else:
            blocker.exec_driver_sql("UPDATE send_holds SET reason = reason WHERE 0 = 1")
        holder = threading.Thread(target=mine.hold, args=(HOLD, "postmark: 429"))
        holder.start()
        deadline = time.monotonic() + 10
        while not mine.holding_here() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert mine.holding_here()
        assert blocker.exec_driver_sql("SELECT count(*) FROM send_holds").scalar() == 0
        if postgres:  # on SQLite every transaction, reads too, queues behind the writer
            assert elsewhere.held_until() is None  # not committed yet
            held = mine.held_until()
            assert held is not None and held[1] == "postmark: 429"
            assert not mine.wait_turn(5, stop=lambda: len(refused) >= 1)  # no turn while held
            assert not mine.wait_out_holds(stop=lambda: len(refused) >= 2)
            assert refused and all(0 < wait <= HOLD for wait in refused)
        assert holder.is_alive()  # all of that while the hold's commit was still waiting
        blocker.rollback()
    holder.join(timeout=30)
    assert not holder.is_alive()
    assert elsewhere.held_until() == mine.held_until()
