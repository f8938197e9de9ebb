"""Fault injection against the local provider servers: retries, pauses, per-message errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.errors import IssueError
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.history import history_of
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import is_suppressed
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakePostmark, FakeProvider, FakeResend, FakeSes, Fault

READERS = 25
RETRYABLE = [
    Fault("status", 429, {"Retry-After": "0"}),
    Fault("status", 429, {"X-RateLimit-Reset": "0"}),
    Fault("status", 503, body=b"{}"),
    Fault("drop"),
    Fault("timeout", delay=6.0),
]


def start(
    fake: FakeProvider, configure: Callable[..., Pulse], readers: int = READERS, **env: str
) -> Pulse:
    pulse = configure(**{**provider_env(fake), "PULSE_BATCH_SIZE": "10", **env})
    seed_and_build(pulse, readers)
    return pulse


def issue_state(pulse: Pulse) -> Issue:
    with transaction(pulse.db.sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        return issue


@pytest.mark.parametrize("fault", RETRYABLE, ids=lambda f: f"{f.kind}-{f.status}")
def test_transient_failures_are_retried_until_everyone_has_the_issue(
    fake: FakeProvider, configure: Callable[..., Pulse], fault: Fault
) -> None:
    # Only the timeout case needs a short client timeout (others keep the default, so a
    # slow machine cannot turn a normal answer into a timeout and a repeat).
    # Generous enough that a loaded CI machine does not turn a normal answer into a timeout.
    timeout = {"PULSE_HTTP_TIMEOUT": "2.0"} if fault.kind == "timeout" else {}
    pulse = start(fake, configure, **timeout)
    fake.faults.extend([fault, fault])
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == READERS
    assert len(fake.accepted) == READERS
    if fault.kind == "timeout" and not isinstance(fake, FakeResend):
        # The server did take the timed-out batches: only they can arrive twice.
        assert sum(fake.accepted.values()) <= READERS + 2 * 10
    else:
        assert set(fake.accepted.values()) == {1}


def test_accepted_but_unanswered_batch_is_repeated_only_for_that_batch(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = start(fake, configure, readers=30)  # three full batches of 10
        fake.faults.append(Fault("accept_then_drop"))
        weekly.send_week(pulse, WEEK)
        twice = [email for email, count in fake.accepted.items() if count == 2]
    assert len(twice) == 10 and len(fake.accepted) == 30
    assert max(fake.accepted.values()) == 2


def test_resend_idempotency_key_makes_a_repeated_batch_harmless(
    configure: Callable[..., Pulse],
) -> None:
    with FakeResend() as fake:
        pulse = start(fake, configure)
        fake.faults.extend([Fault("accept_then_drop"), Fault("accept_then_drop")])
        weekly.send_week(pulse, WEEK)
    assert fake.replayed == 2
    assert len(fake.accepted) == READERS and set(fake.accepted.values()) == {1}


def test_rejected_credentials_pause_the_send_and_resume_continues(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark("right-token") as fake:
        wrong = start(fake, configure, PULSE_POSTMARK_TOKEN="wrong-token")
        report = weekly.send_week(wrong, WEEK)
        assert report.paused_reason is not None and "credentials rejected" in report.paused_reason
        issue = issue_state(wrong)
        assert issue.status is IssueStatus.PAUSED and "401" in (issue.pause_reason or "")
        assert fake.accepted.total() == 0
        right = configure(PULSE_POSTMARK_TOKEN="right-token")
        with pytest.raises(IssueError, match="pulse issue resume"):
            weekly.send_week(right, WEEK)  # a scheduled send does not overrule a pause
        report = weekly.send_week(right, WEEK, resume=True)
    assert report.finished and set(fake.accepted.values()) == {1}
    assert len(fake.accepted) == READERS


def test_consecutive_failed_batches_pause_instead_of_burning_the_list(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = start(fake, configure, PULSE_SEND_RETRIES="1", PULSE_PAUSE_AFTER_FAILED_BATCHES="2")
        fake.faults.extend([Fault("status", 500)] * 10)
        report = weekly.send_week(pulse, WEEK)
        assert report.paused_reason is not None
        assert "2 batches in a row failed" in report.paused_reason
        with transaction(pulse.db.sessions) as session:
            statuses = set(session.scalars(select(Delivery.status)))
        assert statuses == {DeliveryStatus.PENDING}  # nobody was marked failed or skipped
        fake.faults.clear()
        report = weekly.send_week(pulse, WEEK, resume=True)
    assert report.finished and len(fake.accepted) == READERS


def test_inactive_recipient_is_suppressed_bounced_and_never_retried(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = start(fake, configure)
        with transaction(pulse.db.sessions) as session:
            victim = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
            assert victim is not None
        fake.rejected_addresses.add(victim.email.lower())
        report = weekly.send_week(pulse, WEEK)
        calls = len(fake.calls)
    assert report.finished and report.outcome["failed"] == 1 and calls == 3
    with transaction(pulse.db.sessions) as session:
        subscriber = session.get(Subscriber, victim.id)
        assert subscriber is not None and subscriber.status is SubscriberStatus.BOUNCED
        assert history_of(session, victim.id)[-1].cause == "bounce:inactive:send"
        assert is_suppressed(session, victim.email, pulse.subscribers.hash_keys)
        delivery = session.scalar(select(Delivery).where(Delivery.subscriber_id == victim.id))
        assert delivery is not None and delivery.status is DeliveryStatus.FAILED
        assert "406" in (delivery.last_error or "")


def test_ses_per_entry_rejection_is_recorded_not_retried(configure: Callable[..., Pulse]) -> None:
    with FakeSes() as fake:
        pulse = start(fake, configure)
        with transaction(pulse.db.sessions) as session:
            first = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
            assert first is not None
        fake.rejected_addresses.add(first.email.lower())
        report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.outcome == {"sent": READERS - 1, "failed": 1}
    assert sum(call.recipients for call in fake.calls) == READERS  # asked once, never again
