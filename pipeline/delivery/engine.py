"""The send loop: claim a batch, hand it to the provider, record what it accepted.

Several send threads (``PULSE_SEND_CONCURRENCY``) run the same loop, so a provider with
200 ms of latency is not the bottleneck; several ``pulse worker`` processes can run it too.
Each loop: check the issue is still sending and the circuit breaker is quiet, claim a batch
(first any batch a dead process left in flight), wait for room under the shared rate cap and
for any provider hold, send it (retrying whole-call failures with backoff), record the
provider's per-recipient answers.

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
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from pipeline import metrics
from pipeline.delivery.breaker import BreakerThresholds, measure, trip_reason
from pipeline.delivery.compose import IssueMailer, ListIdentity
from pipeline.delivery.isolation import Isolation
from pipeline.delivery.liveness import ProcessLiveness, display_owner, process_liveness
from pipeline.delivery.outbox import (
    ClaimedBatch,
    claim_batch,
    extend_lease,
    lease_owners,
    leased_by_owner,
    next_retry_at,
    record_results,
    release_batch,
    retries_waiting,
    unfinished,
)
from pipeline.delivery.providers.base import PreparedBatch, Provider, SendResult
from pipeline.delivery.providers.errors import (
    BadRecipientInBatch,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from pipeline.delivery.ratelimit import SendRateLimiter, Window, batch_size_for, current_hold
from pipeline.delivery.report import SendReport
from pipeline.delivery.retry import RecipientRetryPolicy, backoff_delay
from pipeline.delivery.send_state import begin_send, pause_send
from pipeline.errors import PulseError
from pipeline.issues.models import Issue, IssueStatus
from pulse_core.database import transaction, utcnow
from subscribers.tokens import TokenSigner

__all__ = ["SendOptions", "SendReport", "begin_send", "pause_send", "run_send"]

log = logging.getLogger(__name__)

BREAKER_INTERVAL = 1.0  # seconds between circuit-breaker checks per run
PROBE_INTERVAL = 1.0  # seconds between looks for senders that died holding leases
IDLE_POLL = 0.2  # seconds between looks while waiting for others' batches in flight


@dataclass(frozen=True)
class SendOptions:
    """How a run sends: batch sizes, concurrency, retries, caps and the breaker."""

    batch_size: int = 500
    concurrency: int = 1
    retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    lease_seconds: float = 300.0
    pause_after_failed_batches: int = 3
    rate_windows: Sequence[Window] = ()
    per_second: float | None = None
    breaker: BreakerThresholds = field(default_factory=BreakerThresholds)
    breaker_interval: float = BREAKER_INTERVAL  # seconds between checks (the query counts rows)
    suppression_key: str | None = None
    retry_policy: RecipientRetryPolicy = field(default_factory=RecipientRetryPolicy)
    idle_wait: float = 60.0  # how long a run waits for retries or others' batches to come due
    probe_interval: float = PROBE_INTERVAL


def run_send(
    sessions: sessionmaker[Session],
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
        options = SendOptions(**{**options.__dict__, "batch_size": batch_size})
    with ExitStack() as stack:
        if liveness is None:
            liveness = stack.enter_context(process_liveness(sessions.kw["bind"]))
        mailer = IssueMailer(issue, identity, signer)
        run = _SendRun(sessions, issue, provider, mailer, options, liveness)
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
        sessions: sessionmaker[Session],
        issue: Issue,
        provider: Provider,
        mailer: IssueMailer,
        options: SendOptions,
        liveness: ProcessLiveness,
    ) -> None:
        self.sessions = sessions
        self.liveness = liveness
        self.issue = issue
        self.provider = provider
        self.mailer = mailer
        self.options = options
        self.limiter = SendRateLimiter(sessions, options.rate_windows)
        largest = min(options.batch_size, provider.capabilities.max_batch)
        for window in options.rate_windows:
            largest = min(largest, max(1, int(window.cap)))
        self.size = batch_size_for(options.per_second, largest)
        self.report = SendReport(week_key=issue.week_key)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failed_in_a_row = 0
        self.last_breaker_check = -float("inf")
        self.last_probe = -float("inf")
        self.dead_owners: set[str] = set()  # senders seen dead: final, so kept for the run
        self.on_progress: Callable[[Counter[str]], None] | None = None

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
            claimed, held = self._claim()
            if claimed is None:
                idle_since = idle_since or time.monotonic()
                if not self._wait_for_work(idle_since):
                    return
                continue
            idle_since = None
            if not claimed.rows:
                continue
            try:
                results = self._send(claimed, held)
            except BaseException:
                with transaction(self.sessions) as session:
                    release_batch(session, claimed.ids, "the send was interrupted")
                raise
            if results is None:
                continue
            with transaction(self.sessions) as session:
                outcome = record_results(
                    session,
                    results,
                    suppression_key=self.options.suppression_key,
                    retry_policy=self.options.retry_policy,
                )
            metrics.record_outcome(self.provider.name, outcome)
            with self.lock:
                self.failed_in_a_row = 0
                self.report.outcome.update(outcome)
                if self.on_progress is not None:
                    self.on_progress(self.report.outcome)

    def _claim(self) -> tuple[ClaimedBatch | None, bool]:
        """The next batch, and whether a provider's hold was in force when it was claimed.

        Reading the hold in the claim's transaction spares an uncapped send a second
        transaction per batch; only the compose time lies between this look and the request.
        """
        with transaction(self.sessions) as session:
            claimed = claim_batch(
                session,
                self.issue.id,
                self.size,
                lease_seconds=self.options.lease_seconds,
                owner=self.liveness.owner,
                dead_owners=self._dead_owners(session),
            )
            return claimed, current_hold(session, self.limiter.clock()) is not None

    def _dead_owners(self, session: Session) -> set[str]:
        """Senders that died holding this issue's leases (looked for about once a second)."""
        now = time.monotonic()
        with self.lock:
            due = now - self.last_probe >= self.options.probe_interval
            if due:
                self.last_probe = now
            known = set(self.dead_owners)
        if not due:
            return known
        suspects = lease_owners(session, self.issue.id) - known - {self.liveness.owner}
        found = self.liveness.dead_among(session, suspects)
        for owner in found:
            log.warning("%s died mid-send; re-sending its batches now", display_owner(owner))
        with self.lock:
            self.dead_owners |= found
        return known | found

    def _wait_for_rate(self, claimed: ClaimedBatch, held: bool) -> bool:
        """Hold a composed batch until the shared rate cap and holds let it go; False if stopped.

        Reserving just before the request (not before the claim) keeps composing time out
        of the window, so releases reach the provider as evenly as they were granted. The
        lease is extended while an hourly or daily cap (or a provider's hold) makes the
        batch wait long.
        """
        with metrics.rate_limit_wait():
            if self.limiter.enabled:
                return self.limiter.wait_turn(len(claimed.rows), self._stop_or_extend(claimed))
            return not held or self.limiter.wait_out_holds(self._stop_or_extend(claimed))

    def _stop_or_extend(self, claimed: ClaimedBatch) -> Callable[[], bool]:
        waited_since = time.monotonic()

        def stop_or_extend() -> bool:
            nonlocal waited_since
            if time.monotonic() - waited_since > self.options.lease_seconds / 3:
                waited_since = time.monotonic()
                with transaction(self.sessions) as session:
                    extend_lease(session, claimed.token, self.options.lease_seconds)
            return self.stop.is_set()

        return stop_or_extend

    def _send(self, claimed: ClaimedBatch, held: bool) -> list[SendResult] | None:
        """Send with retries; None when the batch went back to the queue (or the send paused)."""
        batch = self.mailer.batch(claimed.rows)
        try:
            prepared = self.provider.prepare(batch)
        except PulseError as err:  # e.g. a header value the checks refuse
            metrics.provider_error(self.provider.name, "prepare")
            self._release(claimed, str(err))
            self._pause(f"a batch could not be built: {err}")
            return None
        if not self._wait_for_rate(claimed, held):
            self._release(claimed, "the send was stopped")
            return None
        if claimed.replay:
            log.info(
                "re-sending batch of %d left in flight by a stopped worker", len(batch.recipients)
            )
        return self._deliver(claimed, prepared)

    def _deliver(self, claimed: ClaimedBatch, prepared: PreparedBatch) -> list[SendResult] | None:
        """Send one prepared batch with retries; None when it went back to the queue (or paused).

        Whatever the provider decided before failing (``err.partial``) is recorded at once,
        so it is never sent again; only the undecided rest is retried, isolated or released.
        """
        attempt = 0
        while True:
            try:
                with metrics.batch_timer(self.provider.name):
                    return self.provider.send_prepared(prepared)
            except TransientProviderError as err:
                rest = self._keep_decided(prepared, err)
                if rest is None:
                    return []
                prepared = rest
                metrics.provider_error(self.provider.name, "transient")
                if self.stop.is_set():  # the send is stopping: not this batch's failure
                    self._release(claimed, str(err))
                    return None
                if attempt >= self.options.retries:
                    self._batch_failed(claimed, err)
                    return None
                delay = backoff_delay(
                    attempt,
                    base=self.options.backoff_base,
                    cap=self.options.backoff_max,
                    hint=err.retry_after,
                )
                log.warning("%s; retrying in %.1fs", err, delay)
                if err.retry_after is not None or err.status_code == 429:
                    # The provider is pacing the account, not this thread: everyone waits.
                    self.limiter.hold(delay, str(err))
                if delay > self.options.lease_seconds / 3:
                    with transaction(self.sessions) as session:
                        extend_lease(session, claimed.token, delay + self.options.lease_seconds)
                if self.stop.wait(delay) or not self.limiter.wait_out_holds(
                    self._stop_or_extend(claimed)
                ):
                    self._release(claimed, str(err))
                    return None
                attempt += 1
            except BadRecipientInBatch as err:
                rest = self._keep_decided(prepared, err)
                if rest is None:
                    return []

                def give_up(err: BadRecipientInBatch) -> None:
                    self._release(claimed, str(err))
                    self._pause(f"the provider refused too many addresses in one batch: {err}")

                isolation = Isolation(
                    self.provider,
                    lambda part: self._deliver(claimed, part),
                    self._record_decided,
                    give_up,
                )
                return isolation.resolve(rest, err)
            except (PermanentProviderError, PulseError) as err:
                metrics.provider_error(self.provider.name, "permanent")
                # Retrying will not help, and sending more would only burn the list.
                if isinstance(err, ProviderError):
                    self._keep_decided(prepared, err)
                self._release(claimed, str(err))
                self._pause(f"the provider refused a batch: {err}")
                return None

    def _keep_decided(self, prepared: PreparedBatch, err: ProviderError) -> PreparedBatch | None:
        """Record what the provider decided before ``err``; the rest, prepared (None: no rest)."""
        if not err.partial:
            return prepared
        self._record_decided(err.partial)
        decided = {result.delivery_id for result in err.partial}
        rest = [r for r in prepared.batch.recipients if r.delivery_id not in decided]
        if not rest:
            return None
        return self.provider.prepare(replace(prepared.batch, recipients=rest))

    def _record_decided(self, results: Sequence[SendResult]) -> None:
        """Record results at once (before the rest of their batch is retried or released)."""
        if not results:
            return
        with transaction(self.sessions) as session:
            outcome = record_results(
                session,
                results,
                suppression_key=self.options.suppression_key,
                retry_policy=self.options.retry_policy,
            )
        with self.lock:
            self.report.outcome.update(outcome)
            if self.on_progress is not None:
                self.on_progress(self.report.outcome)

    def _batch_failed(self, claimed: ClaimedBatch, err: PulseError) -> None:
        self._release(claimed, str(err))
        with self.lock:
            self.failed_in_a_row += 1
            failed = self.failed_in_a_row
            # Decided under the lock, so exactly one thread pauses, with the count it saw.
            pause = failed >= self.options.pause_after_failed_batches and not self.stop.is_set()
            if pause:
                self.stop.set()
        if pause:
            self._pause(f"{failed} batches in a row failed; the last error: {err}")

    def _release(self, claimed: ClaimedBatch, error: str) -> None:
        with transaction(self.sessions) as session:
            release_batch(session, claimed.ids, error)

    def _pause(self, reason: str) -> None:
        self.stop.set()
        if pause_send(self.sessions, self.issue.id, reason):
            log.error("send of %s paused: %s", self.issue.week_key, reason)
        with self.lock:
            self.report.paused_reason = self.report.paused_reason or reason

    def _still_sending(self) -> bool:
        with transaction(self.sessions) as session:
            issue = session.get(Issue, self.issue.id, populate_existing=True)
            if issue is None or issue.status is not IssueStatus.SENDING:
                if issue is not None and issue.status is IssueStatus.PAUSED:
                    with self.lock:
                        self.report.paused_reason = issue.pause_reason
                self.stop.set()
                return False
            now = time.monotonic()
            with self.lock:
                due = now - self.last_breaker_check >= self.options.breaker_interval
                if due:
                    self.last_breaker_check = now
            if not due:
                return True
            reason = trip_reason(measure(session, self.issue.id), self.options.breaker)
        if reason is not None:
            self._pause(reason)
            return False
        return True

    def _wait_for_work(self, idle_since: float) -> bool:
        """Nothing to claim now: wait for what may still come, or end the run (False).

        Batches other live processes hold may come back (their sender dies, or a batch
        fails), so the run waits for them up to ``idle_wait``; its own threads' batches are
        theirs to finish. Rows set aside to retry are waited for when due within
        ``idle_wait``; later ones are left for the next run (see retry.py).
        """
        with transaction(self.sessions) as session:
            others = lease_owners(session, self.issue.id) - {self.liveness.owner}
            retry_at = next_retry_at(session, self.issue.id)
        waited = time.monotonic() - idle_since
        if others and waited < self.options.idle_wait:
            self.stop.wait(IDLE_POLL)
            return not self.stop.is_set()
        if retry_at is None:
            return False
        delay = (retry_at - utcnow()).total_seconds()
        if delay > self.options.idle_wait:
            return False
        self.stop.wait(min(max(delay, 0.05), 1.0))
        return not self.stop.is_set()

    def _stop_unfinished(self, reason: str) -> None:
        log.error("send of %s stopped: %s", self.issue.week_key, reason)
        with self.lock:
            self.report.stopped_reason = self.report.stopped_reason or reason
        self.stop.set()

    def _finish(self) -> None:
        with transaction(self.sessions) as session:
            if unfinished(session, self.issue.id) == 0:
                result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                    update(Issue)
                    .where(Issue.id == self.issue.id, Issue.status == IssueStatus.SENDING)
                    .values(status=IssueStatus.SENT, sent_at=utcnow())
                )
                issue = session.get(Issue, self.issue.id, populate_existing=True)
                sent = issue is not None and issue.status is IssueStatus.SENT
                self.report.finished = bool(result.rowcount) or sent
                self.report.finished_elsewhere = sent and not result.rowcount
                return
            self.report.retries_pending = retries_waiting(session, self.issue.id)
            self.report.next_retry_at = next_retry_at(session, self.issue.id)
            self.report.in_flight_elsewhere = sum(
                count
                for owner, count in leased_by_owner(session, self.issue.id).items()
                if owner != self.liveness.owner
            )

