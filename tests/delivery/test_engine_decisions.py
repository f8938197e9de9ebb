"""The engine's decisions against a store in memory: pause, retry, breaker, partial results.

No database and no sleeping: the store is tests/delivery/memory_store.py, the provider a
script of answers, and the run's waits are recorded instead of slept.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.headerregistry import Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.delivery.breaker import (
    BreakerThresholds,
    EventFigures,
    SendHealth,
    sent_that_matters,
    trip_reason,
)
from pipeline.delivery.engine import SendOptions, send_from_store
from pipeline.delivery.liveness import LeaseOnly
from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import (
    BadRecipientInBatch,
    PermanentProviderError,
    TransientProviderError,
)
from pipeline.delivery.report import SendReport
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.store import ClaimedDelivery
from pipeline.issues.merge import MergeTemplate
from pulse_core.database import utcnow
from tests.delivery.memory_store import MemoryPacer, MemorySendStore

Answer = Callable[[Batch], list[SendResult]]


def accept(batch: Batch) -> list[SendResult]:
    return [
        SendResult(r.delivery_id, SendStatus.SENT, f"m{r.delivery_id}") for r in batch.recipients
    ]


def fail(**kwargs: object) -> Answer:
    def answer(batch: Batch) -> list[SendResult]:
        raise TransientProviderError("scripted", "HTTP 503, will retry", **kwargs)  # type: ignore[arg-type]

    return answer


class ScriptedProvider(Provider):
    """Answers each call with the next scripted answer (then accepts everything)."""

    name = "scripted"
    capabilities = Capabilities(max_batch=10)

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.calls: list[list[int]] = []

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.calls.append([r.delivery_id for r in batch.recipients])
        answer = self.script.pop(0) if self.script else accept
        return answer(batch)


class Composer:
    """Plain batches: the engine's decisions do not depend on what the message says."""

    def batch(self, rows: Sequence[ClaimedDelivery]) -> Batch:
        recipients = [
            Recipient(r.delivery_id, r.email, None, f"<{r.delivery_id}@example.com>", {}, {})
            for r in rows
        ]
        return Batch(
            key="2026-W48",
            subject="Issue #1",
            sender=Address("Pulse", "pulse", "example.com"),
            html=MergeTemplate.parse("<p>hi</p>"),
            text=MergeTemplate.parse("hi"),
            recipients=recipients,
        )


class Waits:
    """The run's clock seam: records each wait; ``stop_after`` waits, the run is stopped."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.seconds: list[float] = []
        self.stop_after = stop_after

    def __call__(self, event: threading.Event, seconds: float) -> bool:
        self.seconds.append(seconds)
        if self.stop_after is not None and len(self.seconds) >= self.stop_after:
            event.set()
        return event.is_set()


def emails(count: int) -> list[str]:
    return [f"reader{n}@example.com" for n in range(1, count + 1)]


def send(
    store: MemorySendStore,
    provider: Provider,
    *,
    waits: Waits | None = None,
    pacer: MemoryPacer | None = None,
    on_progress: Callable[[Counter[str]], None] | None = None,
    **overrides: object,
) -> SendReport:
    values: dict[str, object] = {
        "batch_size": 10,
        "breaker_interval": 0.0,
        "idle_wait": 0.0,
        "retry": store.retry,
    }
    return send_from_store(
        store,
        pacer or MemoryPacer(),
        "2026-W48",
        provider,
        Composer(),
        LeaseOnly(),
        options=SendOptions(**(values | overrides)),  # type: ignore[arg-type]
        on_progress=on_progress,
        wait=waits or Waits(),
    )


# Failed batches -----------------------------------------------------------------------


def test_a_send_pauses_after_the_configured_failed_batches_in_a_row() -> None:
    policy = RetryPolicy(request_retries=1, pause_after_failed_batches=3)
    store = MemorySendStore(emails(30), retry=policy)
    provider = ScriptedProvider(*[fail()] * 10)
    waits = Waits()
    report = send(store, provider, waits=waits)
    assert report.paused_reason is not None
    assert report.paused_reason.startswith("3 batches in a row failed")
    assert store.paused_reason == report.paused_reason
    assert len(provider.calls) == 6  # each batch: the try and its one retry
    assert len(store.calls_named("release")) == 3 and len(waits.seconds) == 3
    assert store.by_status() == Counter({DeliveryStatus.PENDING: 30})  # nobody failed


def test_a_batch_that_goes_through_resets_the_count_of_failures_in_a_row() -> None:
    policy = RetryPolicy(request_retries=1, pause_after_failed_batches=2)
    store = MemorySendStore(emails(20), retry=policy)
    provider = ScriptedProvider(fail(), fail(), accept, fail(), fail(), accept)
    report = send(store, provider)
    assert report.paused_reason is None and report.finished
    assert store.by_status() == Counter({DeliveryStatus.SENT: 20})


# Retry-After --------------------------------------------------------------------------


def test_a_retry_after_hint_holds_every_sender_and_is_waited_out() -> None:
    store = MemorySendStore(emails(10))
    provider = ScriptedProvider(fail(status_code=429, retry_after=30.0))
    pacer, waits = MemoryPacer(), Waits()
    report = send(store, provider, pacer=pacer, waits=waits, lease_seconds=60.0)
    assert report.finished and report.sent == 10
    [(held, _reason)] = pacer.holds
    assert held >= 30.0 and waits.seconds == [held]
    # The wait is longer than a third of the lease, so the lease was extended past it.
    assert store.calls_named("extend") == [(list(range(1, 11)), held + 60.0)]


def test_a_stop_during_a_retry_after_keeps_the_batch_back_until_the_hint_ends() -> None:
    store = MemorySendStore(emails(10))
    provider = ScriptedProvider(fail(status_code=429, retry_after=600.0))
    report = send(store, provider, waits=Waits(stop_after=1))
    assert not report.finished and report.sent == 0
    [(ids, _error, not_before)] = store.calls_named("release")
    assert ids == list(range(1, 11)) and not_before is not None
    assert not_before - utcnow() > timedelta(seconds=590)
    assert {row.status for row in store.rows.values()} == {DeliveryStatus.PENDING}


def test_a_hint_beyond_the_cap_is_waited_only_up_to_the_cap() -> None:
    store = MemorySendStore(emails(10), retry=RetryPolicy(max_hint=5.0, backoff_max=1.0))
    waits = Waits()
    send(store, ScriptedProvider(fail(retry_after=10_000.0)), waits=waits)
    assert waits.seconds == [5.0]


# The circuit breaker ------------------------------------------------------------------


def bounce_after_first_batch(
    store: MemorySendStore, bounces: int, complaints: int = 0
) -> Callable[[Counter[str]], None]:
    def webhooks_arrive(outcome: Counter[str]) -> None:
        if outcome["sent"] == 10:
            store.hard_bounces, store.complaints = bounces, complaints

    return webhooks_arrive


@pytest.mark.parametrize(
    ("bounces", "complaints", "words"),
    [(1, 0, "hard bounce rate 10.0%"), (0, 1, "complaint rate 10.00%")],
)
def test_the_breaker_pauses_above_its_thresholds(bounces: int, complaints: int, words: str) -> None:
    store = MemorySendStore(emails(40))
    limits = BreakerThresholds(hard_bounce_rate=0.05, complaint_rate=0.05, min_sent=10)
    progress = bounce_after_first_batch(store, bounces, complaints)
    report = send(store, ScriptedProvider(), breaker=limits, on_progress=progress)
    assert report.paused_reason is not None and words in report.paused_reason
    assert report.sent == 10 and store.by_status()[DeliveryStatus.PENDING] == 30


def test_the_breaker_waits_for_enough_sent_and_a_rate_above_not_at_the_threshold() -> None:
    store = MemorySendStore(emails(20))
    # 1 of 10 sent is 10% but below min_sent; 1 of 20 is exactly 5%, not above it.
    limits = BreakerThresholds(hard_bounce_rate=0.05, complaint_rate=0.05, min_sent=20)
    progress = bounce_after_first_batch(store, 1)
    report = send(store, ScriptedProvider(), breaker=limits, on_progress=progress)
    assert report.paused_reason is None and report.finished and report.sent == 20


# Partial results and bad recipients ----------------------------------------------------


def accept_first(count: int, error: type[Exception], **kwargs: object) -> Answer:
    def answer(batch: Batch) -> list[SendResult]:
        partial = accept(batch)[:count]
        raise error("scripted", "failed part-way", partial=partial, **kwargs)

    return answer


def test_what_the_provider_accepted_before_refusing_is_recorded_before_the_pause() -> None:
    store = MemorySendStore(emails(10))
    report = send(store, ScriptedProvider(accept_first(4, PermanentProviderError)))
    assert [name for name, _ in store.calls] == ["claim", "record", "release", "pause"]
    assert store.calls_named("record") == [[(n, "sent") for n in range(1, 5)]]
    assert report.sent == 4 and report.paused_reason is not None
    assert store.by_status() == Counter({DeliveryStatus.SENT: 4, DeliveryStatus.PENDING: 6})


def test_after_a_partial_transient_failure_only_the_undecided_rest_is_retried() -> None:
    store = MemorySendStore(emails(10))
    provider = ScriptedProvider(accept_first(4, TransientProviderError))
    report = send(store, provider)
    assert provider.calls == [list(range(1, 11)), list(range(5, 11))]
    assert report.finished and report.sent == 10
    assert [name for name, _ in store.calls][:2] == ["claim", "record"]


def test_a_bad_recipient_is_isolated_and_the_rest_of_its_batch_is_sent() -> None:
    def refuses_seven(batch: Batch) -> list[SendResult]:
        if any(r.delivery_id == 7 for r in batch.recipients):
            raise BadRecipientInBatch("scripted", "invalid address")
        return accept(batch)

    store = MemorySendStore(emails(20))
    report = send(store, ScriptedProvider(*[refuses_seven] * 10))
    assert report.finished and report.paused_reason is None
    assert store.rows[7].status is DeliveryStatus.FAILED
    assert "invalid address" in (store.rows[7].last_error or "")
    assert store.by_status() == Counter({DeliveryStatus.SENT: 19, DeliveryStatus.FAILED: 1})


def test_a_recipient_refused_for_now_is_set_aside_and_the_run_ends_with_it_pending() -> None:
    def defers_three(batch: Batch) -> list[SendResult]:
        return [
            SendResult(r.delivery_id, SendStatus.FAILED, error="451 later")
            if r.delivery_id == 3
            else SendResult(r.delivery_id, SendStatus.SENT, "m")
            for r in batch.recipients
        ]

    store = MemorySendStore(emails(10), retry=RetryPolicy(first_delay=120.0))
    report = send(store, ScriptedProvider(defers_three))
    assert not report.finished and report.retries_pending == 1
    row = store.rows[3]
    assert row.status is DeliveryStatus.PENDING and row.retries == 1
    assert row.not_before is not None and report.next_retry_at == row.not_before


# The end of a shared send -------------------------------------------------------------------


class OtherSenderFinishes(Waits):
    """At the run's first idle wait, another sender's claim commits and it sends the rest."""

    def __init__(self, store: MemorySendStore) -> None:
        super().__init__()
        self.store = store

    def __call__(self, event: threading.Event, seconds: float) -> bool:
        self.seconds.append(seconds)
        with self.store.lock:
            for delivery_id in sorted(self.store.locked):
                row = self.store.rows[delivery_id]
                row.status, row.owner = DeliveryStatus.SENT, None
            self.store.locked.clear()
            self.store.sending, self.store.sent_issue = False, True
        return event.is_set()


def test_rows_another_senders_claim_is_taking_are_waited_for_and_the_end_is_told_true() -> None:
    # SKIP LOCKED passes over rows another sender's claim holds before it commits: to this
    # run they are neither claimable nor leased. Ending on that called the send unfinished.
    store = MemorySendStore(emails(30))
    store.locked = set(range(21, 31))
    report = send(store, ScriptedProvider(), waits=OtherSenderFinishes(store), idle_wait=60.0)
    assert report.finished and report.finished_elsewhere
    assert report.sent == 20 and report.sent_in_all == 30
    assert report.describe_sent() == "sent 20 (of 30 sent in all)"
    assert report.describe_end() == "finished by another worker"


@settings(max_examples=500, deadline=None)
@given(
    sent=st.integers(0, 10_000_000),
    bounces=st.integers(0, 100_000),
    complaints=st.integers(0, 10_000),
    bounce_rate=st.floats(0.0001, 1.0),
    complaint_rate=st.floats(0.00001, 1.0),
    min_sent=st.integers(1, 10_000),
)
def test_counting_sent_only_as_far_as_it_matters_never_changes_the_breakers_judgement(
    sent: int,
    bounces: int,
    complaints: int,
    bounce_rate: float,
    complaint_rate: float,
    min_sent: int,
) -> None:
    limits = BreakerThresholds(bounce_rate, complaint_rate, min_sent)
    bound = sent_that_matters(EventFigures(bounces, complaints), limits)
    counted = SendHealth(min(sent, bound), bounces, complaints)
    assert trip_reason(counted, limits) == trip_reason(
        SendHealth(sent, bounces, complaints), limits
    )
