"""``pulse worker`` and requested sends: the send path outside any web request.

An editor's "send now" (desk or CLI) is recorded on the issue (``send_requested_at``);
the worker loop and the scheduler's periodic tick start each requested send here, so a web
process never runs a send. A worker also joins whatever send is in progress.

Several workers (on PostgreSQL) share a send: each claims its own batches with
``FOR UPDATE SKIP LOCKED`` and the rate cap is shared through the database. A worker holds
its liveness lock (liveness.py) for as long as it runs, so if it is killed, whoever claims
next takes its batches back at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from pipeline.delivery.engine import SendOptions, SendReport, run_send
from pipeline.delivery.liveness import ProcessLiveness, display_owner
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.send_lock import SendInProgress
from pipeline.errors import IssueError
from pipeline.issues.lifecycle import withdraw_send_request
from pipeline.issues.models import Issue, IssueStatus
from pipeline.stage_configs import send_options
from pipeline.wiring import Pulse
from pipeline.workflow.analytics import retry_failed_week
from pipeline.workflow.check import refuse_unlinted_send
from pipeline.workflow.weekly import send_week, send_with
from pulse_core.database import transaction

log = logging.getLogger(__name__)

IDLE_PASS = 0.2  # seconds between passes while there is work
RECONNECT_FIRST = 1.0  # seconds before the first reconnect; doubles each time it fails
RECONNECT_MAX = 30.0


def sending_issues(pulse: Pulse) -> list[Issue]:
    """Issues whose send is in progress (not paused, not finished)."""
    with transaction(pulse.db.sessions) as session:
        query = select(Issue).where(Issue.status == IssueStatus.SENDING).order_by(Issue.id)
        return list(session.scalars(query))


def requested_sends(pulse: Pulse) -> list[Issue]:
    """Issues an editor asked to send now (still built) or to retry the failures of (sent)."""
    with transaction(pulse.db.sessions) as session:
        query = (
            select(Issue)
            .where(
                Issue.status.in_((IssueStatus.BUILT, IssueStatus.SENT)),
                Issue.send_requested_at.is_not(None),
            )
            .order_by(Issue.send_requested_at, Issue.id)
        )
        return list(session.scalars(query))


def _refused(pulse: Pulse, issue: Issue, err: IssueError) -> None:
    """A request the send path refuses (lint, state) is withdrawn, not retried forever."""
    log.error("send now of %s refused: %s", issue.week_key, err)
    with transaction(pulse.db.sessions) as session:
        withdraw_send_request(session, issue.week_key, str(err))


def start_requested_sends(
    pulse: Pulse,
    *,
    stop: threading.Event | None = None,
    send: Callable[[Issue], SendReport] | None = None,
) -> list[SendReport]:
    """Start (and run) every requested send, each under its own send lock.

    The scheduler's tick calls this as it is (each send with its own provider); the worker
    passes ``send``, sending with its provider and liveness lock. A send another process
    already runs is left to it; one the send path refuses is withdrawn.
    """

    def send_on_its_own(issue: Issue) -> SendReport:
        return send_week(pulse, issue.week_key, stop=stop, issue=issue)

    reports = []
    for issue in requested_sends(pulse):
        try:
            if issue.status is IssueStatus.SENT:
                retried = retry_failed_week(pulse, issue.week_key)
                if retried.report is not None:
                    reports.append(retried.report)
                continue
            reports.append((send or send_on_its_own)(issue))
        except SendInProgress:
            continue
        except IssueError as err:
            _refused(pulse, issue, err)
    return reports


def run_worker(
    pulse: Pulse,
    *,
    poll_seconds: float = 5.0,
    exit_when_idle: bool = False,
    stop: threading.Event | None = None,
    on_report: Callable[[SendReport], None] | None = None,
) -> None:
    """Send whatever is sending or requested until stopped (or, with ``exit_when_idle``, idle).

    Idle means no send is in progress or requested (a sent or paused issue is not), or what
    is left cannot be sent by this worker now: only retries not due yet, or batches other
    workers hold (its run ends on those). It is judged after every pass, so a worker leaves
    within a poll of the send's end.

    When the database connection is lost (a restart, a failover, a network cut), the worker
    logs it, waits (1 s, doubling up to 30 s) and carries on under a new liveness lock. Its
    old lock went with the connection, so the batches it held are anybody's at once, itself
    included: they are re-sent whole, as after a crash (see liveness.py).
    """
    stop = stop or threading.Event()
    provider = pulse.provider()  # a missing credential stops the worker at startup
    try:
        options = send_options(pulse.settings, provider)
        backoff = RECONNECT_FIRST
        while not stop.is_set():
            try:
                with pulse.liveness() as liveness:
                    log.info("worker %s started", display_owner(liveness.owner))
                    for _pass in _passes(pulse, provider, options, liveness, stop, on_report):
                        backoff = RECONNECT_FIRST  # the database answered a whole pass
                        if _pass.idle and exit_when_idle:
                            log.info("nothing left to send; the worker exits (--exit-when-idle)")
                            return
                        stop.wait(IDLE_PASS if not _pass.idle else poll_seconds)
                    if not stop.is_set():
                        log.error("worker lost its liveness lock; taking a new one")
            except (OperationalError, InterfaceError) as err:
                reason = str(err.orig or err).strip().splitlines()[0]
                log.error("database connection lost (%s); reconnecting in %.0fs", reason, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX)
    finally:
        provider.close()


@dataclass(frozen=True)
class Pass:
    """One look at the work: what each send did, and whether nothing was left to do."""

    reports: list[SendReport]
    idle: bool


def _passes(
    pulse: Pulse,
    provider: Provider,
    options: SendOptions,
    liveness: ProcessLiveness,
    stop: threading.Event,
    on_report: Callable[[SendReport], None] | None,
) -> Iterator[Pass]:
    """Pass after pass over requested and sending issues, while ``liveness`` holds."""

    def send_here(issue: Issue) -> SendReport:
        refuse_unlinted_send(pulse, issue)
        return send_with(pulse, issue, provider, liveness, stop=stop)

    while not stop.is_set() and liveness.healthy():
        reports = start_requested_sends(pulse, send=send_here)
        for issue in sending_issues(pulse):
            log.info("%s: joining its send", issue.week_key)
            report = run_send(
                pulse.db.sessions,
                issue,
                provider,
                pulse.identity,
                pulse.signer,
                options=options,
                stop=stop,
                liveness=liveness,
            )
            log.info("%s: worker %s; send %s", issue.week_key, report.describe_sent(), report.end)
            reports.append(report)
        if on_report is not None:
            for report in reports:
                on_report(report)
        yield Pass(reports, idle=not any(report.outcome for report in reports))
