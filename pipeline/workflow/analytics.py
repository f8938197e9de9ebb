"""The analytics use cases every front end calls: report, ledger, retry of fixable failures.

The CLI (``pulse issue report|deliveries|retry-failed``), the desk and the editors' weekly
report all come here, so each is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from pipeline.analytics.ledger import LedgerEntry, LedgerStatus, ledger, requeue_fixable
from pipeline.analytics.report import IssueReport, issue_report
from pipeline.delivery.engine import SendReport, run_send
from pipeline.delivery.send_lock import send_lock
from pipeline.errors import IssueError, NotFoundError
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue
from pipeline.issues.states import Decision, allowed, transition_values
from pipeline.stage_configs import send_options
from pipeline.weeks import parse_week
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.suppression import suppression_keys


def report_week(pulse: Pulse, week: str | None) -> str:
    """The week asked for, or the newest issue whose send began."""
    if week is not None:
        return parse_week(week)
    with transaction(pulse.db.sessions) as session:
        newest = session.scalar(
            select(Issue.week_key)
            .where(Issue.send_started_at.is_not(None))
            .order_by(Issue.send_started_at.desc(), Issue.id.desc())
            .limit(1)
        )
    if newest is None:
        raise NotFoundError("no issue has been sent yet; give --week")
    return newest


def week_report(pulse: Pulse, week: str) -> IssueReport:
    with transaction(pulse.db.sessions) as session:
        return issue_report(session, get_issue(session, week), utcnow())


def week_ledger(
    pulse: Pulse,
    week: str,
    *,
    status: LedgerStatus | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[LedgerEntry]:
    keys = suppression_keys(pulse.settings.secret_keys())
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, week)
        return ledger(
            session, issue.id, status=status, search=search, suppression_keys=keys, limit=limit
        )


@dataclass(frozen=True)
class RetryReport:
    week_key: str
    requeued: int
    sent: int = 0
    failed: int = 0
    report: SendReport | None = None  # the re-send's own report, when anything was re-queued


def retry_failed_week(pulse: Pulse, week: str) -> RetryReport:
    """Re-queue the week's fixable failures (each once ever) and send them.

    Only a finished send is retried: a running send would pick the rows up by itself, and
    a paused one waits for its operator's ``resume``. No new delivery rows are created, so
    nobody who joined after the send gets the old issue.
    """
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, week)
    if not allowed(issue.status, Decision.RETRY_FAILED):
        raise IssueError(
            f"issue {week} is {issue.status.value}; only a finished send's failures are retried"
        )
    keys = suppression_keys(pulse.settings.secret_keys())
    provider = pulse.provider()
    try:
        with (
            pulse.liveness() as liveness,
            send_lock(pulse.db.sessions, issue.id, week, liveness),
        ):
            with transaction(pulse.db.sessions) as session:
                ids = requeue_fixable(session, issue.id, keys)
                # A desk's request (send_requested_at) is answered by this run, whatever it finds.
                session.execute(
                    update(Issue).where(Issue.id == issue.id).values(send_requested_at=None)
                )
                if ids:
                    sources, values = transition_values(Decision.RETRY_FAILED)
                    session.execute(
                        update(Issue)
                        .where(Issue.id == issue.id, Issue.status.in_(sources))
                        .values(**values)
                    )
            if not ids:
                return RetryReport(week, requeued=len(ids))
            with transaction(pulse.db.sessions) as session:
                current = get_issue(session, week)
            report = run_send(
                pulse.db.sessions,
                current,
                provider,
                pulse.identity,
                pulse.signer,
                options=send_options(pulse.settings, provider),
                liveness=liveness,
            )
    finally:
        provider.close()
    return RetryReport(
        week,
        requeued=len(ids),
        sent=report.outcome["sent"],
        failed=report.outcome["failed"],
        report=report,
    )


def last_issue_top_links(pulse: Pulse, count: int = 5) -> str:
    """A few lines for the editors' weekly report: what readers clicked in the last issue."""
    try:
        week = report_week(pulse, None)
    except NotFoundError:
        return ""
    found = week_report(pulse, week)
    lines = [
        f"Last issue ({week}): {found.human_clickers} reader(s) clicked, "
        f"click-through {found.click_through_rate:.1%}; "
        f"{found.machine_clicks} machine click(s) not counted.",
    ]
    top = found.top_links(count)
    if not top:
        lines.append("No human clicks yet.")
    for rank, figure in enumerate(top, start=1):
        label = figure.link.label or figure.link.url
        lines.append(f"  {rank}. {label} — {figure.human_clicks} click(s) ({figure.link.url})")
    return "\n".join(lines)
