"""The send loop: claim a batch, hand it to the provider, record what it accepted.

Several send threads (``PULSE_SEND_CONCURRENCY``) run the same loop, so a provider with
200 ms of latency is not the bottleneck; several ``pulse worker`` processes can run it too.
Each loop: check the issue is still sending and the circuit breaker is quiet, claim a batch
(first any batch a dead process left in flight), wait for room under the shared rate cap and
for any provider hold, send it (retrying whole-call failures as the retry policy says),
record the provider's per-recipient answers.

The engine makes the decisions and holds no SQL: it talks to a :class:`SendStore`
(store.py; the database one is sql_store.py) and a :class:`Pacer` (the shared rate cap), so
tests drive every decision against a store in memory.

A run holds this process's liveness lock (liveness.py) and writes its owner on the rows it
leases, so when it dies, the next claim anywhere takes its batches back at once. A run ends
when nothing is left to send, or when what is left cannot be sent now: retries not yet due,
or other live workers' batches still in flight after ``idle_wait`` (see report.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace

from pipeline import metrics
from pipeline.delivery.batch_send import BatchSender
from pipeline.delivery.breaker import trip_reason
from pipeline.delivery.compose import IssueMailer, ListIdentity
from pipeline.delivery.liveness import ProcessLiveness, display_owner, process_liveness
from pipeline.delivery.options import BatchComposer, SendOptions, Wait
from pipeline.delivery.providers.base import Provider, SendResult
from pipeline.delivery.ratelimit import SendRateLimiter, batch_size_for
from pipeline.delivery.report import SendReport
from pipeline.delivery.send_state import begin_send, pause_send
from pipeline.delivery.sql_store import Sessions, SqlSendStore
from pipeline.delivery.store import ClaimedBatch, Pacer, SendStore
from pipeline.errors import PulseError
from pipeline.issues.models import Issue
from pipeline.issues.variant_store import VariantBody, variant_bodies
from pulse_core.database import transaction, utcnow
from subscribers.tokens import TokenSigner

__all__ = [
    "SendOptions",
    "SendReport",
    "begin_send",
    "pause_send",
    "run_send",
    "send_from_store",
]

log = logging.getLogger(__name__)

IDLE_POLL = 0.2  # seconds between looks while waiting for others' batches in flight


def run_send(
    sessions: Sessions,
    issue: Issue,
    provider: Provider,
    identity: ListIdentity,
    signer: TokenSigner,
    *,
    batch_size: int | None = None,
    options: SendOptions | None = None,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
    liveness: ProcessLiveness | None = None,
) -> SendReport:
    """Send every unfinished delivery of ``issue``; returns when none is left (or paused).

    When ``stop`` is set (SIGTERM), requests in flight finish and are recorded, batches not
    yet sent go back to the queue, and the run returns unfinished, to be resumed later.
    ``liveness`` is the caller's lock (a worker holds one for its whole life); without it the
    run holds one of its own.
    """
    options = options or SendOptions()
    if batch_size is not None:
        options = replace(options, batch_size=batch_size)
    with ExitStack() as stack:
        if liveness is None:
            liveness = stack.enter_context(process_liveness(sessions.kw["bind"]))
        store = SqlSendStore(
            sessions,
            issue.id,
            liveness,
            retry=options.retry,
            suppression_key=options.suppression_key,
            read_events=options.read_events,
        )
        return send_from_store(
            store,
            SendRateLimiter(sessions, options.rate_windows),
            issue.week_key,
            provider,
            IssueMailer(issue, identity, signer, load_variant_bodies(sessions, issue.id)),
            liveness,
            options=options,
            on_progress=on_progress,
            stop=stop,
        )


def load_variant_bodies(sessions: Sessions, issue_id: int) -> dict[str, VariantBody]:
    """The issue's rendered variants, read once per run (each a template for many readers)."""
    with transaction(sessions) as session:
        return variant_bodies(session, issue_id)


def send_from_store(
    store: SendStore,
    pacer: Pacer,
    week_key: str,
    provider: Provider,
    composer: BatchComposer,
    liveness: ProcessLiveness,
    *,
    options: SendOptions,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
    wait: Wait = threading.Event.wait,
) -> SendReport:
    """The send loop over any store: :func:`run_send` without the database (tests use it).

    ``wait`` is the clock seam for every pause the run takes (backoff, idle polls).
    """
    run = _SendRun(store, pacer, week_key, provider, composer, options, liveness, wait)
    report = _execute(run, on_progress, stop)
    if stop is not None and stop.is_set() and not report.finished:
        report.stopped_reason = report.stopped_reason or "stopped by a signal"
    return report


def _execute(
    run: _SendRun,
    on_progress: Callable[[Counter[str]], None] | None,
    stop: threading.Event | None,
) -> SendReport:
    if stop is None:
        return run.execute(on_progress)
    finished = threading.Event()

    def relay_stop() -> None:
        # The run's own flag also carries pauses; the caller's event only ever stops it.
        while not finished.is_set():
            if stop.wait(0.05):
                run.stop.set()
                return

    relay = threading.Thread(target=relay_stop, name="send-stop-relay", daemon=True)
    relay.start()
    try:
        return run.execute(on_progress)
    finally:
        finished.set()
        relay.join()


class _SendRun:
    """One process's share of a send: its threads, their shared counters and stop flag."""

    def __init__(
        self,
        store: SendStore,
        pacer: Pacer,
        week_key: str,
        provider: Provider,
        composer: BatchComposer,
        options: SendOptions,
        liveness: ProcessLiveness,
        wait: Wait,
    ) -> None:
        self.store = store
        self.week_key = week_key
        self.provider = provider
        self.options = options
        self.liveness = liveness
        self.wait = wait
        largest = min(options.batch_size, provider.capabilities.max_batch)
        for window in options.rate_windows:
            largest = min(largest, max(1, int(window.cap)))
        self.size = batch_size_for(options.per_second, largest)
        self.report = SendReport(week_key=week_key)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failed_in_a_row = 0
        self.last_breaker_check = -float("inf")
        self.last_probe = -float("inf")
        self.dead_owners: set[str] = set()  # senders seen dead: final, so kept for the run
        self.on_progress: Callable[[Counter[str]], None] | None = None
        self.sender = BatchSender(
            store,
            pacer,
            provider,
            composer,
            options,
            self.stop,
            wait,
            record=self._record,
            pause=self._pause,
            batch_failed=self._batch_failed,
        )

    def execute(self, on_progress: Callable[[Counter[str]], None] | None) -> SendReport:
        started = time.perf_counter()
        self.on_progress = on_progress
        threads = max(1, self.options.concurrency)
        if threads == 1:
            self._loop()
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="send") as pool:
                futures = [pool.submit(self._loop) for _ in range(threads)]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    self.stop.set()
                    raise
        self._finish()
        self.report.elapsed = time.perf_counter() - started
        return self.report

    # The loop each send thread runs ---------------------------------------------------

    def _loop(self) -> None:
        idle_since: float | None = None
        while not self.stop.is_set():
            if not self._still_sending():
                return
            if not self.liveness.healthy():
                self._stop_unfinished("this process lost its liveness lock (database connection)")
                return
            claim = self.store.claim(
                self.size, lease_seconds=self.options.lease_seconds, dead_owners=self._dead_owners()
            )
            if claim is None:
                idle_since = idle_since or time.monotonic()
                if not self._wait_for_work(idle_since):
                    return
                continue
            idle_since = None
            if not claim.batch.rows:
                continue
            try:
                results = self.sender.send(claim)
            except BaseException:
                self.store.release(claim.batch, "the send was interrupted")
                raise
            if results is None:
                continue
            outcome = self._record(results)
            metrics.record_outcome(self.provider.name, outcome)
            with self.lock:
                self.failed_in_a_row = 0

    def _dead_owners(self) -> set[str]:
        """Senders that died holding this issue's leases (looked for about once a second)."""
        now = time.monotonic()
        with self.lock:
            due = now - self.last_probe >= self.options.probe_interval
            if due:
                self.last_probe = now
            known = set(self.dead_owners)
        if not due:
            return known
        found = self.store.dead_lease_holders(known)
        for owner in found:
            log.warning("%s died mid-send; re-sending its batches now", display_owner(owner))
        with self.lock:
            self.dead_owners |= found
        return known | found

    def _record(self, results: Sequence[SendResult]) -> Counter[str]:
        """Record results at once (before the rest of their batch is retried or released)."""
        if not results:
            return Counter()
        outcome = self.store.record(results)
        with self.lock:
            self.report.outcome.update(outcome)
            if self.on_progress is not None:
                self.on_progress(self.report.outcome)
        return outcome

    def _batch_failed(self, claimed: ClaimedBatch, err: PulseError) -> None:
        self.store.release(claimed, str(err))
        with self.lock:
            self.failed_in_a_row += 1
            failed = self.failed_in_a_row
            # Decided under the lock, so exactly one thread pauses, with the count it saw.
            pause = self.options.retry.pauses_after(failed) and not self.stop.is_set()
            if pause:
                self.stop.set()
        if pause:
            self._pause(f"{failed} batches in a row failed; the last error: {err}")

    def _pause(self, reason: str) -> None:
        self.stop.set()
        if self.store.pause(reason):
            log.error("send of %s paused: %s", self.week_key, reason)
        with self.lock:
            self.report.paused_reason = self.report.paused_reason or reason

    def _still_sending(self) -> bool:
        state = self.store.issue_state()
        if not state.sending:
            if state.paused_reason is not None:
                with self.lock:
                    self.report.paused_reason = state.paused_reason
            self.stop.set()
            return False
        now = time.monotonic()
        with self.lock:
            due = now - self.last_breaker_check >= self.options.breaker_interval
            if due:
                self.last_breaker_check = now
        if not due:
            return True
        reason = trip_reason(self.store.health(self.options.breaker), self.options.breaker)
        if reason is not None:
            self._pause(reason)
            return False
        return True

    def _wait_for_work(self, idle_since: float) -> bool:
        """Nothing to claim now: wait for what may still come, or end the run (False).

        Batches other live processes hold may come back (their sender dies, or a batch
        fails), so the run waits for them up to ``idle_wait``; its own threads' batches are
        theirs to finish. So do rows due now that the claim did not get (another sender's
        claim is taking them): until that claim commits they are not yet in flight anywhere,
        and a run that ended on them would call unfinished a send others are finishing.
        Rows set aside to retry, and the next local-time wave, are waited for when due within
        ``idle_wait``; later ones are left for the next run (retry.py, waves.py): the issue
        stays sending, and no process idles through the hours between.
        """
        outlook = self.store.outlook()
        waited = time.monotonic() - idle_since
        others = outlook.in_flight_elsewhere or outlook.claimable
        if others and waited < self.options.idle_wait:
            self.wait(self.stop, IDLE_POLL)
            return not self.stop.is_set()
        due = [at for at in (outlook.next_retry_at, outlook.next_wave_at) if at is not None]
        if not due:
            return False
        delay = (min(due) - (outlook.looked_at or utcnow())).total_seconds()
        if delay > self.options.idle_wait:
            return False
        self.wait(self.stop, min(max(delay, 0.05), 1.0))
        return not self.stop.is_set()

    def _stop_unfinished(self, reason: str) -> None:
        log.error("send of %s stopped: %s", self.week_key, reason)
        with self.lock:
            self.report.stopped_reason = self.report.stopped_reason or reason
        self.stop.set()

    def _finish(self) -> None:
        finish = self.store.finish()
        self.report.finished = finish.finished
        self.report.finished_elsewhere = finish.elsewhere
        self.report.sent_in_all = finish.sent_in_all
        if finish.finished:
            return
        outlook = self.store.outlook()
        self.report.retries_pending = outlook.retries_pending
        self.report.next_retry_at = outlook.next_retry_at
        self.report.in_flight_elsewhere = outlook.in_flight_elsewhere
        self.report.waves_pending = outlook.waves_pending
        self.report.next_wave_at = outlook.next_wave_at
