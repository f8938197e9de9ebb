"""The one verdict on an issue: readiness (sections, salary data) and lint, together.

The CLI's ``pulse issue check|lint``, the desk's dashboard, the API's issue status, the
scheduler and the send path all judge through here, with the same configured rules.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.errors import IssueError
from pipeline.issues.build import get_issue
from pipeline.issues.lint import lint_issue
from pipeline.issues.models import Issue
from pipeline.issues.readiness import Readiness, check_readiness
from pipeline.issues.states import UNSENT
from pipeline.stage_configs import lint_config, readiness_config
from pipeline.wiring import Pulse


def check_week(pulse: Pulse, week: str, now: datetime) -> Readiness:
    """Readiness of the week's built issue, or of the draft the queue would make now."""
    config = readiness_config(pulse.settings, pulse.footer)
    with pulse.db.sessions() as session:
        readiness = check_readiness(session, week=week, config=config, now=now)
        session.rollback()  # assembling a draft must leave nothing behind
    return readiness


def lint_week(pulse: Pulse, week: str) -> list[str]:
    """Lint problems of the week's built issue (empty when it may be sent)."""
    with pulse.db.sessions() as session:
        return lint_issue(get_issue(session, week), lint_config(pulse.settings))


def refuse_unlinted_send(pulse: Pulse, issue: Issue) -> None:
    """Raise before a send begins if the issue fails lint; a send under way is not re-judged."""
    if issue.status not in UNSENT:
        return
    with pulse.db.sessions() as session:
        # Lint looks up the issue's job listings: it needs the issue in a session.
        problems = lint_issue(session.merge(issue, load=False), lint_config(pulse.settings))
    if problems:
        listed = "; ".join(problems)
        raise IssueError(f"issue {issue.week_key} fails lint, not sending: {listed}")
