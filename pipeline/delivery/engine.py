"""The send loop: claim a batch, hand it to the provider, record what it accepted."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.compose import IssueMailer, ListIdentity
from pipeline.delivery.outbox import (
    claim_next_batch,
    create_deliveries,
    record_results,
    release_batch,
    unfinished,
)
from pipeline.delivery.providers.base import Provider
from pipeline.errors import IssueError, ProviderError
from pipeline.issues.models import Issue, IssueStatus
from subscribers.database import transaction, utcnow
from subscribers.tokens import TokenSigner

log = logging.getLogger(__name__)

# A held issue waits for an editor (`pulse issue approve`); a skipped one never goes out.
SENDABLE = (IssueStatus.BUILT, IssueStatus.SENDING, IssueStatus.PAUSED)


@dataclass
class SendReport:
    """What one run of the send loop did."""

    week_key: str
    created: int = 0
    outcome: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    finished: bool = False

    @property
    def sent(self) -> int:
        return self.outcome["sent"]


def begin_send(sessions: sessionmaker[Session], week: str) -> tuple[Issue, int]:
    """Mark the issue as sending and create its delivery rows; safe to call again."""
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
        if issue.status not in SENDABLE:
            raise IssueError(f"issue {week} is {issue.status.value} and cannot be sent")
        session.execute(
            update(Issue)
            .where(Issue.id == issue.id)
            .values(status=IssueStatus.SENDING, send_started_at=issue.send_started_at or utcnow())
        )
        created = create_deliveries(session, issue.id)
        session.refresh(issue)
        return issue, created


def run_send(
    sessions: sessionmaker[Session],
    issue: Issue,
    provider: Provider,
    identity: ListIdentity,
    signer: TokenSigner,
    *,
    batch_size: int,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send every unfinished delivery of ``issue``; returns when none is left.

    When ``stop`` is set (SIGTERM), the batch in flight is finished and recorded, then the
    loop returns with the send unfinished, to be resumed later.
    """
    started = time.perf_counter()
    report = SendReport(week_key=issue.week_key)
    mailer = IssueMailer(issue, identity, signer)
    size = min(batch_size, provider.capabilities.max_batch)
    while stop is None or not stop.is_set():
        with transaction(sessions) as session:
            claimed = claim_next_batch(session, issue.id, size)
        if not claimed:
            break
        batch = mailer.batch(claimed)
        try:
            results = provider.send_batch(batch)
        except ProviderError as err:
            with transaction(sessions) as session:
                release_batch(session, [c.delivery_id for c in claimed], str(err))
            raise
        with transaction(sessions) as session:
            report.outcome.update(record_results(session, results))
        if on_progress is not None:
            on_progress(report.outcome)
    with transaction(sessions) as session:
        if unfinished(session, issue.id) == 0:
            session.execute(
                update(Issue)
                .where(Issue.id == issue.id, Issue.status == IssueStatus.SENDING)
                .values(status=IssueStatus.SENT, sent_at=utcnow())
            )
            report.finished = True
    report.elapsed = time.perf_counter() - started
    return report
