"""The issue state machine: which decision may move an issue from which status to which.

:data:`TRANSITIONS` is the one table of the rules; :func:`transition` is the one function
that changes an issue's status. Every decision records itself on the issue
(``status_decision``) with its reason (``status_reason``), so "held because …" and
"skipped because …" say which decision they come from. The send engine's own pause reason
stays in ``pause_reason``.

    built ──hold──▶ held ──approve──▶ built
    built ──send──▶ sending ──pause──▶ paused ──resume──▶ sending ──finish──▶ sent
    built / held ──skip──▶ skipped           sent ──retry-failed──▶ sending
"""

from __future__ import annotations

import enum

from pipeline.errors import IssueError
from pipeline.issues.models import Issue, IssueStatus


class Decision(enum.StrEnum):
    """A verb that changes (or confirms) an issue's status."""

    REBUILD = "rebuild"  # render afresh from the queue; the status stays
    HOLD = "hold"
    APPROVE = "approve"  # go ahead at the scheduled send time
    REQUEST_SEND = "send-now"  # go ahead now: the scheduler or a worker starts the send
    SKIP = "skip"  # never sent; its content goes back to the queue (``discard``)
    SEND = "send"  # the send begins (or continues after an interruption)
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"
    RETRY_FAILED = "retry-failed"  # a finished send re-sends its fixable failures


S = IssueStatus
D = Decision

# status → {decision: the status it leads to}. Anything not listed is refused.
TRANSITIONS: dict[IssueStatus, dict[Decision, IssueStatus]] = {
    S.BUILT: {
        D.REBUILD: S.BUILT,
        D.HOLD: S.HELD,
        D.APPROVE: S.BUILT,
        D.REQUEST_SEND: S.BUILT,
        D.SKIP: S.SKIPPED,
        D.SEND: S.SENDING,
    },
    S.HELD: {D.REBUILD: S.HELD, D.APPROVE: S.BUILT, D.SKIP: S.SKIPPED},
    S.SENDING: {D.SEND: S.SENDING, D.PAUSE: S.PAUSED, D.FINISH: S.SENT},
    S.PAUSED: {D.RESUME: S.SENDING},
    S.SENT: {D.RETRY_FAILED: S.SENDING},
    S.SKIPPED: {},
}

# How a refusal reads: "issue 2026-W48 is sent and cannot be held".
_REFUSED = {
    D.REBUILD: "can no longer be rebuilt",
    D.HOLD: "cannot be held",
    D.APPROVE: "cannot be approved",
    D.REQUEST_SEND: "cannot be sent now",
    D.SKIP: "cannot be discarded",
    D.SEND: "cannot be sent",
    D.PAUSE: "cannot be paused",
    D.RESUME: "cannot be resumed",
    D.FINISH: "cannot be finished",
    D.RETRY_FAILED: "has no finished send to retry",
}


def statuses_allowing(decision: Decision) -> tuple[IssueStatus, ...]:
    """Every status from which ``decision`` may be taken, in lifecycle order."""
    return tuple(status for status, moves in TRANSITIONS.items() if decision in moves)


# Not sent and still changeable (a rebuild, a hold, a discard).
UNSENT = statuses_allowing(D.REBUILD)
# The week is over: sent (only its own failures may be retried) or skipped.
DONE = (S.SENT, S.SKIPPED)
# The send has begun: what was sent is what readers got (the archive shows these).
SEND_BEGUN = tuple(status for status in IssueStatus if status not in (*UNSENT, S.SKIPPED))


def allowed(status: IssueStatus, decision: Decision) -> bool:
    """Whether ``decision`` may be taken on an issue in ``status``."""
    return decision in TRANSITIONS[status]


def next_status(status: IssueStatus, decision: Decision) -> IssueStatus:
    """The status ``decision`` leads to; a clear :class:`IssueError` if it is refused."""
    target = TRANSITIONS[status].get(decision)
    if target is None:
        raise IssueError(refusal(status, decision))
    return target


def refusal(status: IssueStatus, decision: Decision, week: str | None = None) -> str:
    """Why ``decision`` is refused in ``status``, naming both."""
    subject = f"issue {week}" if week else "the issue"
    reason = f"{subject} is {status.value} and {_REFUSED[decision]}"
    if status in DONE and decision in (D.SEND, D.REQUEST_SEND):
        reason += "; it will not be sent again"
    return reason


def transition_values(decision: Decision) -> tuple[tuple[IssueStatus, ...], dict[str, object]]:
    """The compare-and-set form of a transition, for a bulk ``UPDATE … WHERE status IN …``.

    The send engine pauses and finishes with one conditional UPDATE (a pause another process
    wrote meanwhile must stand, so it cannot load, check and write): this gives that UPDATE
    the statuses ``decision`` may leave and the values it writes, both from the one table.
    Only decisions that lead to a single status have this form.
    """
    sources = statuses_allowing(decision)
    targets = {TRANSITIONS[status][decision] for status in sources}
    if len(targets) != 1:
        raise ValueError(f"{decision.value} leads to {len(targets)} statuses, not one")
    values: dict[str, object] = {
        "status": targets.pop(),
        "status_decision": decision.value,
        "status_reason": None,
    }
    return sources, values


def transition(issue: Issue, decision: Decision, reason: str | None = None) -> Issue:
    """Take ``decision`` on ``issue``: check the table, set the status and record why.

    Raises :class:`IssueError` naming the issue's status and the decision when the table
    refuses it; the issue is then unchanged. The caller's session writes the change.
    """
    if not allowed(issue.status, decision):
        raise IssueError(refusal(issue.status, decision, issue.week_key))
    issue.status = next_status(issue.status, decision)
    if decision is not D.REBUILD:  # a rebuild keeps the decision that set the status
        issue.status_decision = decision.value
        issue.status_reason = reason
    return issue
