"""Leases tied to live processes, per-recipient retries, and how a run ends (SQLite and PostgreSQL).

A "crashed" sender is simulated in-process by claiming a batch under a liveness lock and then
releasing the lock without recording anything: exactly what kill -9 leaves behind (the real
kill -9 runs are in test_crash.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline.delivery.engine import SendOptions, begin_send, run_send
from pipeline.delivery.liveness import ProcessLiveness, hold_liveness, process_liveness
from pipeline.delivery.message import Batch
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.outbox import ClaimedBatch, claim_batch, record_results
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.delivery.report import RunEnd
from pipeline.delivery.retry import RetryPolicy
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakePostmark

LONG_LEASE = 300.0  # the default: a test that waited for it would time out


class Deferring(Provider):
    """Accepts everyone except ``deferred`` addresses, which get an SMTP-style 4xx for now."""

    name = "deferring"
    capabilities = Capabilities(max_batch=10)

    def __init__(self) -> None:
        self.deferred: set[str] = set()
        self.asked: Counter[str] = Counter()

    def send_batch(self, batch: Batch) -> list[SendResult]:
        results = []
        for recipient in batch.recipients:
            self.asked[recipient.email] += 1
            if recipient.email in self.deferred:
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.FAILED, error="451 4.7.1 later")
                )
            else:
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.SENT, f"m{recipient.delivery_id}")
                )
        return results


def options(**overrides: object) -> SendOptions:
    values: dict[str, object] = {"batch_size": 10, "lease_seconds": LONG_LEASE, "idle_wait": 0.5}
    return SendOptions(**(values | overrides))  # type: ignore[arg-type]


def send(pulse: Pulse, provider: Provider, **overrides: object) -> object:
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    return run_send(
        pulse.db.sessions,
        issue,
        provider,
        pulse.identity,
        pulse.signer,
        options=options(**overrides),
    )


def claim_as(pulse: Pulse, liveness: ProcessLiveness) -> ClaimedBatch:
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    with transaction(pulse.db.sessions) as session:
        claimed = claim_batch(session, issue.id, 10, lease_seconds=LONG_LEASE, owner=liveness.owner)
    assert claimed is not None and len(claimed.rows) == 10
    return claimed


def statuses(pulse: Pulse) -> Counter[DeliveryStatus]:
    with pulse.db.sessions() as session:
        return Counter(session.scalars(select(Delivery.status)))


def issue_status(pulse: Pulse) -> IssueStatus:
    with pulse.db.sessions() as session:
        issue = session.scalar(select(Issue))
        assert issue is not None
        return issue.status


# Leases of dead and live senders -----------------------------------------------------------


def test_a_dead_senders_batch_is_sent_at_once_despite_a_long_lease(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 30)
        crashed = hold_liveness(pulse.db.engine)
        left = claim_as(pulse, crashed)
        crashed.release()  # kill -9: the lock is gone, the rows stay leased for 300 s
        report = send(pulse, pulse.provider())
    assert report.finished and report.sent == 30  # type: ignore[attr-defined]
    assert statuses(pulse) == {DeliveryStatus.SENT: 30}
    assert set(fake.accepted.values()) == {1}
    # The batch went out whole, as one call, so an idempotency key would be the same.
    assert 10 in [call.recipients for call in fake.calls]
    with pulse.db.sessions() as session:
        tokens = set(session.scalars(select(Delivery.claim_token).where(Delivery.id.in_(left.ids))))
    assert tokens == {left.token}


def test_a_live_workers_batch_is_left_alone_and_the_run_says_so(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 30)
        with process_liveness(pulse.db.engine) as other:
            held = claim_as(pulse, other)
            report = send(pulse, pulse.provider())
    assert not report.finished and report.end is RunEnd.UNFINISHED  # type: ignore[attr-defined]
    assert report.in_flight_elsewhere == 10 and report.sent == 20  # type: ignore[attr-defined]
    assert not {row.email.lower() for row in held.rows} & set(fake.accepted)
    assert issue_status(pulse) is IssueStatus.SENDING


def test_the_run_waits_for_another_workers_last_batch_and_reports_it_finished_there(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 30)
        with process_liveness(pulse.db.engine) as other:
            held = claim_as(pulse, other)

            def other_finishes() -> None:
                time.sleep(0.5)
                with transaction(pulse.db.sessions) as session:
                    results = [SendResult(i, SendStatus.SENT, f"x{i}") for i in held.ids]
                    record_results(session, results)
                    session.execute(update(Issue).values(status=IssueStatus.SENT, sent_at=utcnow()))

            worker = threading.Thread(target=other_finishes)
            worker.start()
            report = send(pulse, pulse.provider(), idle_wait=30.0)
            worker.join()
    assert report.finished and report.finished_elsewhere  # type: ignore[attr-defined]
    assert "by another worker" in report.describe_end()  # type: ignore[attr-defined]
    assert report.sent == 20 and statuses(pulse) == {DeliveryStatus.SENT: 30}  # type: ignore[attr-defined]


def test_a_batch_whose_sender_dies_while_the_run_waits_is_taken_over(
    configure: Callable[..., Pulse],
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 30)
        doomed = hold_liveness(pulse.db.engine)
        claim_as(pulse, doomed)
        killer = threading.Timer(0.5, doomed.release)
        killer.start()
        report = send(pulse, pulse.provider(), idle_wait=30.0)
        killer.join()
    assert report.finished and not report.finished_elsewhere  # type: ignore[attr-defined]
    assert report.sent == 30 and set(fake.accepted.values()) == {1}  # type: ignore[attr-defined]


# Temporary per-recipient refusals -----------------------------------------------------------


def first_email(pulse: Pulse) -> str:
    with pulse.db.sessions() as session:
        from subscribers.models import Subscriber

        email = session.scalars(select(Subscriber.email).order_by(Subscriber.id)).first()
    assert email is not None
    return email


def test_a_deferred_recipient_waits_its_turn_and_the_run_ends_with_retries_pending(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 20)
    provider = Deferring()
    provider.deferred.add(first_email(pulse))
    report = send(pulse, provider, retry=RetryPolicy(first_delay=3600))
    assert report.end is RunEnd.RETRIES_PENDING and report.retries_pending == 1  # type: ignore[attr-defined]
    assert report.outcome == {"sent": 19, "retry": 1}  # type: ignore[attr-defined]
    assert issue_status(pulse) is IssueStatus.SENDING  # not paused, not failed: under way
    with pulse.db.sessions() as session:
        row = session.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.PENDING))
    assert row is not None and row.retries == 1 and row.last_error == "451 4.7.1 later"
    assert row.not_before is not None
    assert timedelta(minutes=59) < row.not_before - utcnow() <= timedelta(hours=1)
    assert report.next_retry_at == row.not_before  # type: ignore[attr-defined]

    # When the retry is due and the recipient's server takes it, the next run finishes.
    provider.deferred.clear()
    with transaction(pulse.db.sessions) as session:
        session.execute(update(Delivery).values(not_before=utcnow() - timedelta(seconds=1)))
    again = send(pulse, provider)
    assert again.finished and again.sent == 1  # type: ignore[attr-defined]
    assert provider.asked[first_email(pulse)] == 2


def test_retries_due_soon_are_waited_for_within_the_run(configure: Callable[..., Pulse]) -> None:
    pulse = configure()
    seed_and_build(pulse, 20)
    provider = Deferring()
    email = first_email(pulse)
    provider.deferred.add(email)

    def lift_after_two(outcome: Counter[str]) -> None:
        if provider.asked[email] >= 2:
            provider.deferred.clear()

    issue, _ = begin_send(pulse.db.sessions, WEEK)
    policy = RetryPolicy(first_delay=0.05, max_delay=0.1)
    report = run_send(
        pulse.db.sessions,
        issue,
        provider,
        pulse.identity,
        pulse.signer,
        options=options(retry=policy, idle_wait=5.0),
        on_progress=lift_after_two,
    )
    assert report.finished and report.sent == 20 and provider.asked[email] == 3


def test_a_recipient_deferred_past_the_schedule_is_given_up_with_the_reason(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 12)
    provider = Deferring()
    email = first_email(pulse)
    provider.deferred.add(email)
    policy = RetryPolicy(first_delay=0.01, max_delay=0.02, max_retries=3)
    report = send(pulse, provider, retry=policy, idle_wait=5.0)
    assert report.finished and report.outcome["failed"] == 1  # type: ignore[attr-defined]
    assert provider.asked[email] == 4  # the first try and three retries
    with pulse.db.sessions() as session:
        failed = session.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED))
    assert failed is not None
    assert failed.last_error == "gave up after 4 temporary refusals: 451 4.7.1 later"


def test_the_retry_schedule_doubles_to_its_ceiling_and_gives_up_after_about_a_day() -> None:
    policy = RetryPolicy()
    assert [policy.recipient_delay(n) for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert policy.retries_allowed == 28
    assert 22 * 3600 < policy.elapsed(policy.retries_allowed) <= 24 * 3600
    assert not policy.gives_up(28) and policy.gives_up(29)
    assert RetryPolicy(max_retries=5).retries_allowed == 5
    assert RetryPolicy(give_up_after=0).retries_allowed == 0


@pytest.mark.parametrize("status", [SendStatus.FAILED, SendStatus.UNKNOWN])
def test_each_temporary_refusal_pushes_the_next_try_further_out(
    configure: Callable[..., Pulse], status: SendStatus
) -> None:
    pulse = configure()
    seed_and_build(pulse, 3)
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    policy = RetryPolicy(first_delay=60, max_delay=600)
    waits = []
    for _ in range(5):
        with transaction(pulse.db.sessions) as session:
            session.execute(update(Delivery).values(not_before=None))
            claimed = claim_batch(session, issue.id, 1)
            assert claimed is not None
            (row,) = claimed.rows
            record_results(
                session, [SendResult(row.delivery_id, status, error="later")], retry_policy=policy
            )
            stored = session.get(Delivery, row.delivery_id)
            assert stored is not None and stored.not_before is not None
            waits.append(round((stored.not_before - utcnow()).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 10]
