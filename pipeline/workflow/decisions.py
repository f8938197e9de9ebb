"""The editors' decisions on a week's issue, the same on the CLI, the desk and the API.

- **approve**: go ahead at the scheduled send time. A held issue whose send time has
  passed goes out at the scheduler's next re-check.
- **send now**: approve and ask for the send at once. Nothing is sent in the caller's
  process: the request is recorded on the issue and the scheduler's tick or a
  ``pulse worker`` starts the send within its poll interval (:mod:`pipeline.workflow.worker`).
- **hold**: keep it from going out until approved again.
- **pause**: stop a send in progress (the waves still to come of a local-time send too)
  until ``pulse issue resume``.
- **discard** (skip): it is never sent; its content goes back to the queue.
- **retry failed**: a finished send re-sends the failures a retry can fix, each once;
  from the desk this is a request too, run by the same send path as "send now".

Every decision except discard builds the issue from the queue first if there is none.
"""

from __future__ import annotations

from pipeline.content.validate import required_text
from pipeline.delivery.send_state import pause_send
from pipeline.errors import IssueError, ValidationError
from pipeline.issues import lifecycle
from pipeline.issues.build import get_issue
from pipeline.issues.lint import lint_issue
from pipeline.issues.models import Issue
from pipeline.issues.states import Decision, allowed
from pipeline.stage_configs import lint_config
from pipeline.wiring import Pulse
from pipeline.workflow.weekly import ensure_built
from pulse_core.database import transaction


def approve(pulse: Pulse, week: str, editor: str) -> Issue:
    """Record ``editor``'s go-ahead for the week's scheduled send."""
    with transaction(pulse.db.sessions) as session:
        ensure_built(pulse, session, week)
        return lifecycle.approve_issue(session, week, editor)


def hold(pulse: Pulse, week: str, reason: str) -> Issue:
    """Keep the week's issue from going out until it is approved again."""
    with transaction(pulse.db.sessions) as session:
        ensure_built(pulse, session, week)
        return lifecycle.hold_issue(session, week, reason)


def pause(pulse: Pulse, week: str, reason: str) -> Issue:
    """Pause the week's send in progress; only ``pulse issue resume`` continues it."""
    reason = required_text(reason, "reason", max_length=300)
    if "\n" in reason or "\r" in reason:
        raise ValidationError("reason", "must be one line")
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, week)
    if not pause_send(pulse.db.sessions, issue.id, reason):
        raise IssueError(f"{week} is not sending (it is {issue.status.value}); nothing to pause")
    return issue


def discard(pulse: Pulse, week: str, editor: str, reason: str) -> Issue:
    """Throw the week's issue away (never built just to be thrown away)."""
    with transaction(pulse.db.sessions) as session:
        return lifecycle.discard_issue(session, week, editor, reason)


def request_send_now(pulse: Pulse, week: str, editor: str) -> Issue:
    """Approve the week's issue and ask the send path to start it now.

    An issue that fails lint is refused here, where the editor sees why, rather than by
    the worker later.
    """
    with transaction(pulse.db.sessions) as session:
        issue = ensure_built(pulse, session, week)
        if allowed(issue.status, Decision.REQUEST_SEND):  # else request_send says why not
            problems = lint_issue(issue, lint_config(pulse.settings))
            if problems:
                raise IssueError(f"issue {week} fails lint, not sending: {'; '.join(problems)}")
        return lifecycle.request_send(session, issue, editor)


def request_retry_failed(pulse: Pulse, week: str, editor: str) -> Issue:
    """Ask the scheduler's tick or a worker to re-send the week's fixable failures."""
    with transaction(pulse.db.sessions) as session:
        return lifecycle.request_retry(session, get_issue(session, week), editor)
