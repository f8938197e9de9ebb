"""kill -9 mid-send, then restart: nobody skipped, repeats only from batches in flight.

Real processes (``pulse issue send`` and ``pulse worker``) are killed with SIGKILL at
random moments while they send to a local provider server, which counts what every
recipient received.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from pipeline.delivery.engine import begin_send
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from subscribers.database import transaction
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
        "PULSE_SEND_LEASE_SECONDS": "5",
        "PULSE_SEND_BACKOFF_BASE": "0.05",
    }
    return env


def sent_rows(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        query = select(func.count()).where(Delivery.status == DeliveryStatus.SENT)
        return int(session.scalar(query.select_from(Delivery)) or 0)


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
