"""kill -9 mid-send, then restart: resumed at once, nobody skipped, only in-flight batches repeated.

Real processes (``pulse issue send`` and ``pulse worker``) are killed with SIGKILL at
random moments while they send to a local provider server, which counts what every
recipient received. Leases stay at their default of 300 s: a restart that had to wait for
them (or for the send lock to go stale) could not finish in the same run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pipeline.delivery.engine import begin_send
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakePostmark, FakeProvider, FakeResend

READERS = 240
BATCH = 10
CONCURRENCY = 2
PULSE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def child_env(fake: FakeProvider) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PULSE_")}
    env |= {name: value for name, value in os.environ.items() if name.startswith("PULSE_")}
    env |= provider_env(fake)
    env |= {
        "PULSE_BATCH_SIZE": str(BATCH),
        "PULSE_SEND_CONCURRENCY": str(CONCURRENCY),
        "PULSE_SEND_LEASE_SECONDS": "300",
        "PULSE_SEND_BACKOFF_BASE": "0.05",
    }
    return env


def sent_rows(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        query = select(func.count()).where(Delivery.status == DeliveryStatus.SENT)
        return int(session.scalar(query.select_from(Delivery)) or 0)


def leased_emails(pulse: Pulse) -> set[str]:
    """Addresses of rows left leased (``sending``): the batches that were in flight."""
    with transaction(pulse.db.sessions) as session:
        query = (
            select(Subscriber.email)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(Delivery.status == DeliveryStatus.SENDING)
        )
        return {email.lower() for email in session.scalars(query)}


def kill_with_batches_in_flight(
    fake: FakeProvider, pulse: Pulse, command: list[str], rng: random.Random
) -> set[str]:
    """Run ``command`` and SIGKILL it while it holds leased rows; returns their addresses.

    A kill can land between two batches, leaving nothing leased; then it tries again, so
    the restart always has a dead process's batches to take back.
    """
    for _ in range(5):
        before = sent_rows(pulse)
        child = subprocess.Popen(
            command, env=child_env(fake), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while child.poll() is None and time.monotonic() < deadline:
            if sent_rows(pulse) > before and leased_emails(pulse):
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        if left := leased_emails(pulse):
            return left
    pytest.fail("the sender never died with a batch in flight")


def send_right_away(fake: FakeProvider) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PULSE, "issue", "send", "--week", WEEK],
        env=child_env(fake),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_send_right_after_kill_9_resumes_at_once_and_finishes_in_the_same_run(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark(latency=0.05) as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, READERS)
        in_flight = kill_with_batches_in_flight(
            fake, pulse, [*PULSE, "issue", "send", "--week", WEEK], random.Random(11)
        )
        restart = send_right_away(fake)
        assert restart.returncode == 0, restart.stderr  # not "already being sent", not unfinished
        assert "send finished" in restart.stdout
        assert_everyone_received(fake, pulse)
        repeated = {email for email, count in fake.accepted.items() if count > 1}
    # Only the batches the dead process had in flight can have gone out twice.
    assert repeated <= in_flight
    assert max(fake.accepted.values()) <= 2


@pytest.mark.slow
def test_send_right_after_a_worker_is_killed_takes_its_batches_back_at_once(
    configure: Callable[..., Pulse],
) -> None:
    with FakeResend(latency=0.05) as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, READERS)
        begin_send(pulse.db.sessions, WEEK)
        kill_with_batches_in_flight(
            fake, pulse, [*PULSE, "worker", "--exit-when-idle", "--poll", "0.2"], random.Random(3)
        )
        restart = send_right_away(fake)
        assert restart.returncode == 0, restart.stderr
        assert "send finished" in restart.stdout
        assert_everyone_received(fake, pulse)
    # Re-sent whole and unchanged: Resend recognised each repeated batch by its key.
    assert set(fake.accepted.values()) == {1}


def kill_mid_send(fake: FakeProvider, pulse: Pulse, rounds: int, rng: random.Random) -> int:
    """Start ``pulse issue send`` and SIGKILL it mid-send ``rounds`` times; returns kills."""
    kills = 0
    for _ in range(rounds):
        before = sent_rows(pulse)
        child = subprocess.Popen(
            [*PULSE, "issue", "send", "--week", WEEK],
            env=child_env(fake),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        # Wait until this child has sent something, then kill it at a random moment.
        while sent_rows(pulse) == before and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    return kills


def finish_with_a_worker(fake: FakeProvider) -> None:
    done = subprocess.run(
        [*PULSE, "worker", "--exit-when-idle", "--poll", "0.5"],
        env=child_env(fake),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def assert_everyone_received(fake: FakeProvider, pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        issue = session.scalar(select(Issue))
        counts = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
    assert issue is not None and issue.status is IssueStatus.SENT
    assert counts == {DeliveryStatus.SENT: READERS}
    assert len(fake.accepted) == READERS  # nobody skipped


@pytest.mark.slow
def test_kill_9_mid_send_then_restart_skips_nobody(configure: Callable[..., Pulse]) -> None:
    rng = random.Random(5)
    with FakePostmark(latency=0.05) as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, READERS)
        kills = kill_mid_send(fake, pulse, rounds=3, rng=rng)
        finish_with_a_worker(fake)
        assert_everyone_received(fake, pulse)
        repeats = sum(fake.accepted.values()) - READERS
    assert kills >= 1
    # Only batches in flight when a process died can have been delivered twice.
    assert repeats <= kills * CONCURRENCY * BATCH


@pytest.mark.slow
def test_kill_9_with_resend_idempotency_keys_repeats_nobody(
    configure: Callable[..., Pulse],
) -> None:
    rng = random.Random(7)
    with FakeResend(latency=0.05) as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, READERS)
        kills = kill_mid_send(fake, pulse, rounds=3, rng=rng)
        finish_with_a_worker(fake)
        assert_everyone_received(fake, pulse)
    assert kills >= 1
    assert set(fake.accepted.values()) == {1}


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_share_a_send_exactly_once(
    configure: Callable[..., Pulse], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a send on PostgreSQL")
    with FakePostmark(latency=0.05) as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, READERS)
        begin_send(pulse.db.sessions, WEEK)
        workers = [
            subprocess.Popen(
                [*PULSE, "worker", "--exit-when-idle", "--poll", "0.2"],
                env=child_env(fake),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert all(worker.returncode == 0 for worker in workers), outputs
        assert_everyone_received(fake, pulse)
        assert set(fake.accepted.values()) == {1}
    busy = [out for out, _err in outputs if "sent " in out and "sent 0," not in out]
    assert len(busy) >= 2, outputs  # the send really was shared


@pytest.mark.slow
def test_a_local_time_wave_killed_mid_batch_is_resumed_whole_and_the_next_wave_waits(
    configure: Callable[..., Pulse],
) -> None:
    """PULSE_SEND_LOCAL_TIME: kill -9 mid-wave; the restart finishes that wave, exactly once
    (Resend's keys recognise the replayed batch), leaves the wave to come alone and ends
    waiting for it; once it is due a worker sends it, and everyone has exactly one copy."""
    with FakeResend(latency=0.05) as fake:
        pulse = configure(**provider_env(fake), PULSE_SEND_LOCAL_TIME="09:00")
        seed_and_build(pulse, READERS)
        with transaction(pulse.db.sessions) as session:
            ids = list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
            later = ids[: READERS // 2]  # readers in Los Angeles: the second wave
            session.execute(
                update(Subscriber).where(Subscriber.id.in_(later)).values(timezone="America/Los_Angeles")
            )
            session.execute(
                update(Subscriber)
                .where(Subscriber.id.not_in(later))
                .values(timezone="Europe/London")
            )
        begin_send(pulse.db.sessions, WEEK, waves=pulse.schedule.wave_plan(WEEK))
        # The week is past, so both waves are due by now; the clock puts the second ahead.
        tomorrow = utcnow() + timedelta(days=1)
        with transaction(pulse.db.sessions) as session:
            session.execute(
                update(Delivery).where(Delivery.subscriber_id.in_(later)).values(due_at=tomorrow)
            )
        kill_with_batches_in_flight(
            fake, pulse, [*PULSE, "issue", "send", "--week", WEEK], random.Random(17)
        )
        restart = send_right_away(fake)
        assert restart.returncode == 3, restart.stderr
        assert "waiting for the wave at" in restart.stderr
        with transaction(pulse.db.sessions) as session:
            london = set(
                session.scalars(select(Subscriber.email).where(Subscriber.id.not_in(later)))
            )
            status = session.scalar(select(Issue.status))
        assert status is IssueStatus.SENDING
        assert {email.lower() for email in fake.accepted} == {e.lower() for e in london}
        assert set(fake.accepted.values()) == {1}
        with transaction(pulse.db.sessions) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.subscriber_id.in_(later))
                .values(due_at=utcnow() - timedelta(seconds=1))
            )
        finish_with_a_worker(fake)
        assert_everyone_received(fake, pulse)
    assert set(fake.accepted.values()) == {1}
