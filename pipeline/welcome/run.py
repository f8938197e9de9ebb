"""One pass of the series: for each step, claim what is due, send it, record the answers.

The caller (pipeline/workflow/welcome.py) says whether now is a quiet time (the weekly
issue's hour) and gives the clock: every decision here depends on ``now``, so a test runs a
week of the series in a few calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.compose import ListIdentity
from pipeline.delivery.message import Recipient
from pipeline.delivery.providers.base import Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import BadRecipientInBatch, ProviderError
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.withdraw import skip_pending_deliveries
from pipeline.issues.render import Footer
from pipeline.welcome import outbox
from pipeline.welcome.mailer import StepMailer, send_id_of
from pipeline.welcome.models import WelcomeSend
from pipeline.welcome.outbox import ClaimedSend, Lease
from pipeline.welcome.series import Step, due_window
from pipeline.welcome.templates import SeriesContent, StepEmail, render_step
from pulse_core.database import transaction
from subscribers.leaving import LeaveReason, LeavingRules, leave
from subscribers.models import Subscriber
from subscribers.tokens import TokenSigner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeriesConfig:
    """What a pass needs, built by the wiring from the settings."""

    steps: tuple[Step, ...]
    identity: ListIdentity
    footer: Footer
    batch_size: int = 100
    lease_seconds: float = 300.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    suppression_key: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.steps)


@dataclass
class StepOutcome:
    """What a pass did for one step."""

    step: str
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class PassReport:
    """A pass's outcome per step, or why it sent nothing at all."""

    steps: tuple[StepOutcome, ...] = ()
    deferred: str | None = None

    @property
    def sent(self) -> int:
        return sum(outcome.sent for outcome in self.steps)


@dataclass(frozen=True)
class SeriesRun:
    """The outside world of one pass (handed in so tests can swap any part)."""

    sessions: sessionmaker[Session]
    config: SeriesConfig
    templates: Path
    signer: TokenSigner
    provider: Callable[[], Provider]
    content: Callable[[], SeriesContent]
    owner: str | None = None
    dead_owners: Callable[[Session], set[str]] = lambda _session: set()


def run_pass(run: SeriesRun, now: datetime, quiet: str | None = None) -> PassReport:
    """Send every step due at ``now``; nothing when ``quiet`` gives a reason to wait."""
    if not run.config.enabled:
        return PassReport(deferred="the series is off (PULSE_WELCOME_SERIES is empty)")
    if quiet:
        return PassReport(deferred=quiet)
    with transaction(run.sessions) as session:
        started = outbox.series_start(session, now)
    outcomes = []
    with _provider(run) as provider:
        for index, step in enumerate(run.config.steps):
            outcomes.append(_run_step(run, provider, index, step, started, now))
    return PassReport(steps=tuple(outcomes))


@contextmanager
def _provider(run: SeriesRun) -> Iterator[_LazyProvider]:
    lazy = _LazyProvider(run.provider)
    try:
        yield lazy
    finally:
        lazy.close()


class _LazyProvider:
    """Built on the first batch: a pass with nothing due opens no connection."""

    def __init__(self, factory: Callable[[], Provider]) -> None:
        self.factory = factory
        self.provider: Provider | None = None

    def get(self) -> Provider:
        if self.provider is None:
            self.provider = self.factory()
        return self.provider

    def close(self) -> None:
        if self.provider is not None:
            self.provider.close()


def _run_step(
    run: SeriesRun,
    provider: _LazyProvider,
    index: int,
    step: Step,
    started: datetime,
    now: datetime,
) -> StepOutcome:
    outcome = StepOutcome(step.key)
    mailer: StepMailer | None = None
    window = due_window(run.config.steps, index, now)
    limit = run.config.batch_size
    while True:
        with transaction(run.sessions) as session:
            lease = Lease(run.owner, run.config.lease_seconds, run.dead_owners(session))
            rows, gone = outbox.claim_left_behind(session, step.key, now, lease)
            if not rows and not gone:
                rows, gone = outbox.claim_retries(session, step.key, now, limit, lease)
            if not rows and not gone:
                rows = outbox.claim_due(session, step.key, window, started, now, limit, lease)
        outcome.skipped += len(gone)
        if not rows:
            if gone:
                continue
            return outcome
        if mailer is None:
            mailer = StepMailer(_render(run, step), run.config.identity, run.signer)
        sender = provider.get()
        size = max(1, sender.capabilities.max_batch)
        for start in range(0, len(rows), size):
            _send(run, sender, mailer, rows[start : start + size], now, outcome)


def _render(run: SeriesRun, step: Step) -> StepEmail:
    return render_step(run.templates, step, run.content(), run.config.footer)


def _send(
    run: SeriesRun,
    provider: Provider,
    mailer: StepMailer,
    rows: list[ClaimedSend],
    now: datetime,
    outcome: StepOutcome,
) -> None:
    batch = mailer.batch(rows)
    try:
        results = provider.send_batch(batch)
    except ProviderError as err:
        log.warning("welcome %s: batch not sent: %s", mailer.key, err)
        results = _undecided_refused(batch.recipients, err)
    _record(run, [_as_row(r) for r in results], now, outcome)


def _undecided_refused(recipients: Sequence[Recipient], err: ProviderError) -> list[SendResult]:
    """What the provider decided before failing stands; everyone else was refused for now.

    Only the addresses a provider names as the reason (a bad recipient in the batch) fail
    for good; a failed call (a timeout, a 5xx, even bad credentials) is retried on the
    retry policy's schedule, so fixing the settings lets the step go out after all.
    """
    results = list(err.partial)
    decided = {result.delivery_id for result in results}
    culprits = set(err.delivery_ids) if isinstance(err, BadRecipientInBatch) else set()
    for recipient in recipients:
        if recipient.delivery_id in decided:
            continue
        status = SendStatus.INVALID if recipient.delivery_id in culprits else SendStatus.FAILED
        results.append(SendResult(recipient.delivery_id, status, error=str(err)[:500]))
    return results


def _as_row(result: SendResult) -> SendResult:
    """The provider's answer, about the row it stands for."""
    return SendResult(
        delivery_id=send_id_of(result.delivery_id),
        status=result.status,
        provider_message_id=result.provider_message_id,
        error=result.error,
        raw=result.raw,
        suppress=result.suppress,
    )


def _record(run: SeriesRun, results: list[SendResult], now: datetime, outcome: StepOutcome) -> None:
    if not results:
        return
    with transaction(run.sessions) as session:
        sent, retry, failed, suppress = outbox.record_results(
            session, results, now, run.config.retry
        )
        for send_id in suppress:
            _suppress(session, send_id, run.config.suppression_key, results)
    outcome.sent += sent
    outcome.retry += retry
    outcome.failed += failed


def _suppress(session: Session, send_id: int, key: str | None, results: list[SendResult]) -> None:
    """The provider says never mail this address again: the reader leaves, as for an issue."""
    subscriber = session.scalar(
        select(Subscriber)
        .join(WelcomeSend, WelcomeSend.subscriber_id == Subscriber.id)
        .where(WelcomeSend.id == send_id)
    )
    if subscriber is None:
        return
    error = next((r.error for r in results if r.delivery_id == send_id), None)
    rules = LeavingRules([key] if key else [], skip_pending_deliveries)
    leave(
        session,
        subscriber,
        LeaveReason.SUPPRESSED,
        cause="bounce:inactive:welcome",
        detail=error,
        rules=rules,
    )
