"""The send loop: claim a batch, hand it to the provider, record what it accepted.

Several send threads (``PULSE_SEND_CONCURRENCY``) run the same loop, so a provider with
200 ms of latency is not the bottleneck; several ``pulse worker`` processes can run it too.
Each loop: check the issue is still sending and the circuit breaker is quiet, reserve room
under the shared rate cap, claim a batch, send it (retrying whole-call failures with
backoff), record the provider's per-recipient answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from pipeline import metrics
from pipeline.delivery.breaker import BreakerThresholds, measure, trip_reason
from pipeline.delivery.compose import IssueMailer, ListIdentity
from pipeline.delivery.outbox import (
    ClaimedBatch,
    claim_batch,
    create_deliveries,
    extend_lease,
    next_retry_at,
    record_results,
    release_batch,
    unfinished,
)
from pipeline.delivery.providers.base import Provider, SendResult
from pipeline.delivery.ratelimit import SendRateLimiter, Window, batch_size_for
from pipeline.delivery.retry import backoff_delay
from pipeline.errors import IssueError, PermanentProviderError, PulseError, TransientProviderError
from pipeline.issues.models import Issue, IssueStatus
from subscribers.database import transaction, utcnow
from subscribers.tokens import TokenSigner

log = logging.getLogger(__name__)

# A held issue waits for an editor (`pulse issue approve`); a skipped one never goes out.
SENDABLE = (IssueStatus.BUILT, IssueStatus.SENDING)
BREAKER_INTERVAL = 1.0  # seconds between circuit-breaker checks per run


@dataclass
class SendReport:
    """What one run of the send loop did."""

    week_key: str
    created: int = 0
    outcome: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    finished: bool = False
    paused_reason: str | None = None

    @property
    def sent(self) -> int:
        return self.outcome["sent"]


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


def begin_send(
    sessions: sessionmaker[Session], week: str, *, resume: bool = False
) -> tuple[Issue, int]:
    """Mark the issue as sending and create its delivery rows; safe to call again.

    A paused send continues only when ``resume`` is set: a pause is a decision (the circuit
    breaker's or the operator's) that the next scheduled run must not overrule.
    """
    with transaction(sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == week))
        if issue is None:
            raise IssueError(f"no issue has been built for {week}")
        if issue.status is IssueStatus.SENT:
            return issue, 0
        if issue.status is IssueStatus.HELD:
            raise IssueError(
                f"issue {week} is held ({issue.pause_reason}); "
                f"send it with `pulse issue approve --week {week}`"
            )
        if issue.status is IssueStatus.PAUSED and not resume:
            raise IssueError(
                f"the send of {week} is paused ({issue.pause_reason or 'no reason given'}); "
                "run `pulse issue resume` to continue it"
            )
        if issue.status not in (*SENDABLE, IssueStatus.PAUSED):
            raise IssueError(f"issue {week} is {issue.status.value} and cannot be sent")
        session.execute(
            update(Issue)
            .where(Issue.id == issue.id)
            .values(
                status=IssueStatus.SENDING,
                pause_reason=None,
                send_started_at=issue.send_started_at or utcnow(),
            )
        )
        created = create_deliveries(session, issue.id)
        session.refresh(issue)
        return issue, created


def pause_send(sessions: sessionmaker[Session], issue_id: int, reason: str) -> bool:
    """Pause a sending issue with a reason; returns False if it was not sending."""
    with transaction(sessions) as session:
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Issue)
            .where(Issue.id == issue_id, Issue.status == IssueStatus.SENDING)
            .values(status=IssueStatus.PAUSED, pause_reason=reason)
        )
        return bool(result.rowcount)


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
) -> SendReport:
    """Send every unfinished delivery of ``issue``; returns when none is left (or paused).

    When ``stop`` is set (SIGTERM), requests in flight finish and are recorded, batches not
    yet sent go back to the queue, and the run returns unfinished, to be resumed later.
    """
    options = options or SendOptions()
    if batch_size is not None:
        options = SendOptions(**{**options.__dict__, "batch_size": batch_size})
    run = _SendRun(sessions, issue, provider, IssueMailer(issue, identity, signer), options)
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
    ) -> None:
        self.sessions = sessions
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
        while not self.stop.is_set():
            if not self._still_sending():
                return
            claimed = self._claim()
            if claimed is None:
                if not self._wait_for_retries():
                    return
                continue
            if not claimed.rows:
                continue
            try:
                results = self._send(claimed)
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
                    retry_delay=self.options.backoff_base * 4,
                )
            metrics.record_outcome(self.provider.name, outcome)
            with self.lock:
                self.failed_in_a_row = 0
                self.report.outcome.update(outcome)
                if self.on_progress is not None:
                    self.on_progress(self.report.outcome)

    def _claim(self) -> ClaimedBatch | None:
        with transaction(self.sessions) as session:
            return claim_batch(
                session, self.issue.id, self.size, lease_seconds=self.options.lease_seconds
            )

    def _wait_for_rate(self, claimed: ClaimedBatch) -> bool:
        """Hold a composed batch until the shared rate cap lets it go; False if stopped.

        Reserving just before the request (not before the claim) keeps composing time out
        of the window, so releases reach the provider as evenly as they were granted. The
        lease is extended while an hourly or daily cap makes the batch wait long.
        """
        if not self.limiter.enabled:
            return True
        waited_since = time.monotonic()

        def stop_or_extend() -> bool:
            nonlocal waited_since
            if time.monotonic() - waited_since > self.options.lease_seconds / 3:
                waited_since = time.monotonic()
                with transaction(self.sessions) as session:
                    extend_lease(session, claimed.token, self.options.lease_seconds)
            return self.stop.is_set()

        with metrics.rate_limit_wait():
            return self.limiter.reserve(len(claimed.rows), stop_or_extend) is not None

    def _send(self, claimed: ClaimedBatch) -> list[SendResult] | None:
        """Send with retries; None when the batch went back to the queue (or the send paused)."""
        batch = self.mailer.batch(claimed.rows)
        try:
            prepared = self.provider.prepare(batch)
        except PulseError as err:  # e.g. a header value the checks refuse
            metrics.provider_error(self.provider.name, "prepare")
            self._release(claimed, str(err))
            self._pause(f"a batch could not be built: {err}")
            return None
        if not self._wait_for_rate(claimed):
            self._release(claimed, "the send was stopped")
            return None
        if claimed.replay:
            log.info(
                "re-sending batch of %d left in flight by a stopped worker", len(batch.recipients)
            )
        attempt = 0
        while True:
            try:
                with metrics.batch_timer(self.provider.name):
                    return self.provider.send_prepared(prepared)
            except TransientProviderError as err:
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
                if delay > self.options.lease_seconds / 3:
                    with transaction(self.sessions) as session:
                        extend_lease(session, claimed.token, delay + self.options.lease_seconds)
                if self.stop.wait(delay):
                    self._release(claimed, str(err))
                    return None
                attempt += 1
            except (PermanentProviderError, PulseError) as err:
                metrics.provider_error(self.provider.name, "permanent")
                # Retrying will not help, and sending more would only burn the list.
                self._release(claimed, str(err))
                self._pause(f"the provider refused a batch: {err}")
                return None

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

    def _wait_for_retries(self) -> bool:
        """Nothing to claim: wait for rows set aside to retry later, if there are any."""
        with transaction(self.sessions) as session:
            retry_at = next_retry_at(session, self.issue.id)
        if retry_at is None:
            return False
        delay = (retry_at - utcnow()).total_seconds()
        self.stop.wait(min(max(delay, 0.05), 5.0))
        return not self.stop.is_set()

    def _finish(self) -> None:
        with transaction(self.sessions) as session:
            if unfinished(session, self.issue.id) == 0:
                result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                    update(Issue)
                    .where(Issue.id == self.issue.id, Issue.status == IssueStatus.SENDING)
                    .values(status=IssueStatus.SENT, sent_at=utcnow())
                )
                issue = session.get(Issue, self.issue.id, populate_existing=True)
                self.report.finished = bool(result.rowcount) or (
                    issue is not None and issue.status is IssueStatus.SENT
                )
