"""Exactly once per (subscriber, step): crashes, refusals and racing schedulers."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from pipeline.delivery.liveness import process_liveness
from pipeline.delivery.message import Batch
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.providers.base import Provider, SendResult
from pipeline.delivery.providers.errors import TransientProviderError
from pipeline.welcome.models import WelcomeSend
from pipeline.wiring import Pulse
from pipeline.workflow.welcome import run_welcome_series, welcome_status
from pulse_core.database import transaction
from tests.conftest import MakePulse
from tests.welcome.conftest import Clock, SeriesOutbox, confirmed_reader, far_schedule

pytestmark = pytest.mark.usefixtures("workspace")


class Crash(BaseException):
    """Stands in for kill -9: nothing after it runs, no handler catches it."""


class Watching(Provider):
    """The configured provider, with every batch it was handed kept, and a fault to inject."""

    def __init__(self, inner: Provider, fault: str | None, seen: list[Batch]) -> None:
        self.inner = inner
        self.fault = fault
        self.seen = seen
        self.name = inner.name
        self.capabilities = inner.capabilities

    def send_batch(self, batch: Batch) -> list[SendResult]:
        if self.fault == "before":
            raise Crash
        if self.fault == "refuse":
            raise TransientProviderError(self.name, "503 try later", status_code=503)
        results = self.inner.send_batch(batch)
        self.seen.append(batch)
        if self.fault == "after":
            raise Crash  # the provider took the batch; the answer was never recorded
        return results

    def close(self) -> None:
        self.inner.close()


def watch(pulse: Pulse, fault: str | None, seen: list[Batch]) -> None:
    factory: Callable[[], Provider] = type(pulse).provider.__get__(pulse)
    pulse.provider = lambda: Watching(factory(), fault, seen)  # type: ignore[method-assign]


def statuses(pulse: Pulse) -> Counter[DeliveryStatus]:
    with transaction(pulse.db.sessions) as session:
        rows = session.execute(
            select(WelcomeSend.status, func.count()).group_by(WelcomeSend.status)
        )
        return Counter({status: count for status, count in rows.all()})


def readers(pulse: Pulse, count: int) -> list[int]:
    return [confirmed_reader(pulse, f"r{n}@example.com") for n in range(count)]


def test_a_crash_after_the_provider_took_the_batch_resends_it_whole_and_unchanged(
    series_pulse: Pulse, series_outbox: SeriesOutbox, at: Clock
) -> None:
    readers(series_pulse, 3)
    seen: list[Batch] = []
    watch(series_pulse, "after", seen)
    with pytest.raises(Crash):
        run_welcome_series(series_pulse, at(minutes=1))
    assert statuses(series_pulse) == {DeliveryStatus.SENDING: 3}
    # The next pass, a minute later: the crashed process is known dead, its batch is taken
    # back at once, with the same Message-IDs and idempotency key (a provider that takes
    # keys answers the repeat from its store; the file provider overwrites its own files).
    watch(series_pulse, None, seen)
    assert run_welcome_series(series_pulse, at(minutes=2)).sent == 3
    first, again = seen
    assert again.idempotency_key == first.idempotency_key
    assert [r.message_id for r in again.recipients] == [r.message_id for r in first.recipients]
    assert statuses(series_pulse) == {DeliveryStatus.SENT: 3}
    assert len(series_outbox.messages("welcome")) == 3
    assert run_welcome_series(series_pulse, at(minutes=3)).sent == 0


def test_a_crash_before_the_send_loses_nobody_and_sends_each_once(
    series_pulse: Pulse, at: Clock
) -> None:
    readers(series_pulse, 4)
    seen: list[Batch] = []
    watch(series_pulse, "before", seen)
    with pytest.raises(Crash):
        run_welcome_series(series_pulse, at(minutes=1))
    watch(series_pulse, None, seen)
    run_welcome_series(series_pulse, at(minutes=2))
    run_welcome_series(series_pulse, at(minutes=30))
    addressed = Counter(r.email for batch in seen for r in batch.recipients)
    assert addressed == Counter({f"r{n}@example.com": 1 for n in range(4)})


def test_a_stalled_lease_is_taken_over_once_it_runs_out(series_pulse: Pulse, at: Clock) -> None:
    readers(series_pulse, 2)
    seen: list[Batch] = []
    watch(series_pulse, "before", seen)
    with pytest.raises(Crash):
        run_welcome_series(series_pulse, at(minutes=1))
    # Another sender, alive but stalled, holds the rows: only the lease's end frees them.
    with process_liveness(series_pulse.db.engine) as other:
        with transaction(series_pulse.db.sessions) as session:
            for row in session.scalars(select(WelcomeSend)):
                row.lease_owner = other.owner
        watch(series_pulse, None, seen)
        assert run_welcome_series(series_pulse, at(minutes=2)).sent == 0
        lease = series_pulse.settings.send_lease_seconds
        assert run_welcome_series(series_pulse, at(minutes=1, seconds=lease + 1)).sent == 2


def test_a_refused_call_is_retried_on_the_retry_schedule(series_pulse: Pulse, at: Clock) -> None:
    readers(series_pulse, 2)
    seen: list[Batch] = []
    watch(series_pulse, "refuse", seen)
    report = run_welcome_series(series_pulse, at(minutes=1))
    assert (report.steps[0].step, report.steps[0].sent, report.steps[0].retry) == ("welcome", 0, 2)
    assert welcome_status(series_pulse, at(minutes=1)).steps[0].retrying == 2
    watch(series_pulse, None, seen)
    assert run_welcome_series(series_pulse, at(minutes=1, seconds=5)).sent == 0  # not yet due
    first_delay = series_pulse.settings.retry_first_delay
    assert run_welcome_series(series_pulse, at(minutes=1, seconds=first_delay + 1)).sent == 2
    assert statuses(series_pulse) == {DeliveryStatus.SENT: 2}


def test_racing_schedulers_send_each_step_once(
    make_pulse: MakePulse, start: object, at: Clock
) -> None:
    schedule = far_schedule(at())
    pulses = [make_pulse(schedule=schedule, timezone="UTC", batch_size=7) for _ in range(3)]
    readers(pulses[0], 40)
    seen: list[Batch] = []
    lock = threading.Lock()

    def record(batch: Batch) -> None:
        with lock:
            seen.append(batch)

    for pulse in pulses:
        watch(pulse, None, [])
        inner = pulse.provider

        def provider(inner: Callable[[], Provider] = inner) -> Provider:
            watched = inner()
            assert isinstance(watched, Watching)
            watched.seen = _Sink(record)  # type: ignore[assignment]
            return watched

        pulse.provider = provider  # type: ignore[method-assign]
    moment = at(minutes=1)
    errors: list[BaseException] = []

    def run(pulse: Pulse) -> None:
        try:
            run_welcome_series(pulse, moment)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(pulse,)) for pulse in pulses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    addressed = Counter(r.email for batch in seen for r in batch.recipients)
    assert addressed == Counter({f"r{n}@example.com": 1 for n in range(40)})
    assert statuses(pulses[0]) == {DeliveryStatus.SENT: 40}


class _Sink(list[Batch]):
    """A list whose append hands the batch to a shared, locked recorder."""

    def __init__(self, record: Callable[[Batch], None]) -> None:
        super().__init__()
        self.record = record

    def append(self, batch: Batch) -> None:
        self.record(batch)
