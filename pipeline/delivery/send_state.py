"""A send's issue-level state: starting (or continuing) it, and pausing it with a reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.outbox import create_deliveries
from pipeline.delivery.variants import assign_variants
from pipeline.delivery.waves import WavePlan
from pipeline.errors import IssueError
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.states import Decision, allowed, refusal, transition_values
from pulse_core.database import transaction, utcnow


def begin_send(
    sessions: sessionmaker[Session],
    week: str,
    *,
    resume: bool = False,
    waves: WavePlan | None = None,
) -> tuple[Issue, int]:
    """Mark the issue as sending and create its delivery rows; safe to call again.

    A paused send continues only when ``resume`` is set: a pause is a decision (the circuit
    breaker's or the operator's) that the next scheduled run must not overrule. With
    ``waves`` (local-time sending) each new row is due at its reader's local send time.
    """
    with transaction(sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == week))
        if issue is None:
            raise IssueError(f"no issue has been built for {week}")
        if issue.status is IssueStatus.SENT:
            return issue, 0
        if issue.status is IssueStatus.HELD:
            raise IssueError(
                f"issue {week} is held ({issue.status_reason}); "
                f"approve it first with `pulse issue approve --week {week}`"
            )
        if issue.status is IssueStatus.PAUSED and not resume:
            raise IssueError(
                f"the send of {week} is paused ({issue.pause_reason or 'no reason given'}); "
                "run `pulse issue resume` to continue it"
            )
        decision = Decision.RESUME if issue.status is IssueStatus.PAUSED else Decision.SEND
        if not allowed(issue.status, decision):  # the state machine's table decides
            raise IssueError(refusal(issue.status, decision, week))
        session.execute(
            update(Issue)
            .where(Issue.id == issue.id)
            .values(
                status=IssueStatus.SENDING,
                pause_reason=None,
                send_started_at=issue.send_started_at or utcnow(),
            )
        )
        made_since = utcnow()
        created = create_deliveries(session, issue.id, waves)
        assign_variants(session, issue.id, made_since)
        session.refresh(issue)
        return issue, created


def pause_send(sessions: sessionmaker[Session], issue_id: int, reason: str) -> bool:
    """Pause a sending issue with a reason; returns False if it was not sending."""
    sources, values = transition_values(Decision.PAUSE)
    with transaction(sessions) as session:
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Issue)
            .where(Issue.id == issue_id, Issue.status.in_(sources))
            .values(**values, pause_reason=reason)
        )
        return bool(result.rowcount)
