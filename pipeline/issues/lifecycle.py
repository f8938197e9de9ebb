"""An issue's editorial decisions: hold, approve, request a send now, and discard (skip).

Each goes through the state machine (:mod:`pipeline.issues.states`), which says from which
status it is allowed and records the decision and its reason on the issue. Front ends call
these through :mod:`pipeline.workflow.decisions`, which also builds the issue first.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.errors import IssueError, ValidationError
from pipeline.issues.build import get_issue, release_content
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.states import Decision, allowed, refusal, transition
from pulse_core.database import utcnow

MAX_REASON = 500


def _reason(reason: str, hint: str) -> str:
    why = reason.strip()
    if not why:
        raise ValidationError("reason", hint)
    if len(why) > MAX_REASON:
        raise ValidationError("reason", f"must be at most {MAX_REASON} characters")
    return why


def hold_issue(session: Session, week: str, reason: str) -> Issue:
    """Keep the issue from being sent (by the scheduler or anyone) until it is approved."""
    why = _reason(reason, "say why the issue is held")
    issue = transition(get_issue(session, week), Decision.HOLD, why)
    _withdraw_approval(issue)
    session.flush()
    return issue


def approve_issue(session: Session, week: str, editor: str) -> Issue:
    """Record ``editor``'s go-ahead for the scheduled send; a held issue is released."""
    issue = transition(get_issue(session, week), Decision.APPROVE, f"approved by {editor}")
    issue.approved_at = utcnow()
    issue.approved_by = editor
    session.flush()
    return issue


def request_send(session: Session, issue: Issue, editor: str) -> Issue:
    """Approve ``issue`` and ask for its send now; the scheduler or a worker starts it.

    Nothing is sent here: the request is a row the send path picks up within its poll
    interval, so a web request never runs a send. A held issue needs approval first.
    """
    if issue.status is IssueStatus.HELD:
        raise IssueError(
            f"issue {issue.week_key} is held ({issue.status_reason}); approve it first"
        )
    transition(issue, Decision.REQUEST_SEND, f"send now requested by {editor}")
    issue.approved_at = utcnow()
    issue.approved_by = editor
    issue.send_requested_at = utcnow()
    session.flush()
    return issue


def request_retry(session: Session, issue: Issue, editor: str) -> Issue:
    """Ask the send path to re-send a finished send's fixable failures.

    Like "send now", nothing is sent here: the scheduler's tick or a worker runs the
    retry (:func:`pipeline.workflow.analytics.retry_failed_week`) within its poll interval.
    """
    if not allowed(issue.status, Decision.RETRY_FAILED):
        raise IssueError(refusal(issue.status, Decision.RETRY_FAILED, issue.week_key))
    issue.send_requested_at = utcnow()
    issue.status_reason = f"retry of failures requested by {editor}"[:MAX_REASON]
    session.flush()
    return issue


def withdraw_send_request(session: Session, week: str, why: str) -> Issue:
    """Drop a "send now" the send path refused (it fails lint, say); the approval stays."""
    issue = get_issue(session, week)
    issue.send_requested_at = None
    issue.status_reason = f"send now refused: {why}"[:MAX_REASON]
    session.flush()
    return issue


def is_approved(session: Session, week: str) -> bool:
    return get_issue(session, week).approved_at is not None


def skip_issue(session: Session, week: str, reason: str, editor: str = "scheduler") -> Issue:
    """Give up on the week: the issue is never sent (the scheduler at a deadline)."""
    return discard_issue(session, week, editor, reason)


def discard_issue(session: Session, week: str, editor: str, reason: str) -> Issue:
    """Throw away a held or stray issue, recording who and why; it is never sent.

    Its snippets and job listings go back to the queue, so the next issue can use them.
    """
    why = _reason(reason, "say why the issue is discarded (--reason)")
    who = editor.strip()
    if not who:
        raise ValidationError("editor", "say who discards the issue (--editor)")
    issue = transition(get_issue(session, week), Decision.SKIP, why)
    release_content(session, issue.id)
    _withdraw_approval(issue)
    issue.discarded_at = utcnow()
    issue.discarded_by = who[:320]
    session.flush()
    return issue


def _withdraw_approval(issue: Issue) -> None:
    issue.approved_at = None
    issue.approved_by = None
    issue.send_requested_at = None


# The desk's buttons and the decisions they take (``build`` is a rebuild of a stored issue).
DESK_ACTIONS: dict[str, Decision] = {
    "rebuild": Decision.REBUILD,
    "approve": Decision.APPROVE,
    "hold": Decision.HOLD,
    "send": Decision.REQUEST_SEND,
    "discard": Decision.SKIP,
}
# With no issue yet, each of these builds from the queue first.
UNBUILT_ACTIONS = ("build", "approve", "hold", "send")


def allowed_actions(issue: Issue | None) -> tuple[str, ...]:
    """The decisions ``issue``'s state allows; an approved issue needs no second approval.

    Read from the state machine's table, so the desk never offers what it would refuse.
    """
    if issue is None:
        return UNBUILT_ACTIONS
    actions = tuple(
        name for name, decision in DESK_ACTIONS.items() if allowed(issue.status, decision)
    )
    if issue.approved_at is not None:
        actions = tuple(a for a in actions if a != "approve")
    if issue.send_requested_at is not None:
        actions = tuple(a for a in actions if a != "send")
    return actions
