"""``pulse worker``: an extra sender that joins whatever send is in progress.

Several workers (on PostgreSQL) share a send: each claims its own batches with
``FOR UPDATE SKIP LOCKED`` and the rate cap is shared through the database. A worker holds
its liveness lock (liveness.py) for as long as it runs, so if it is killed, whoever claims
next takes its batches back at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select

from pipeline.delivery.engine import SendReport, run_send
from pipeline.delivery.liveness import process_liveness
from pipeline.issues.models import Issue, IssueStatus
from pipeline.weekly import send_options
from pipeline.wiring import Pulse
from pulse_core.database import transaction

log = logging.getLogger(__name__)


def sending_issues(pulse: Pulse) -> list[Issue]:
    """Issues whose send is in progress (not paused, not finished)."""
    with transaction(pulse.db.sessions) as session:
        query = select(Issue).where(Issue.status == IssueStatus.SENDING).order_by(Issue.id)
        return list(session.scalars(query))


def run_worker(
    pulse: Pulse,
    *,
    poll_seconds: float = 5.0,
    exit_when_idle: bool = False,
    stop: threading.Event | None = None,
    on_report: Callable[[SendReport], None] | None = None,
) -> None:
    """Send whatever is sending until stopped (or, with ``exit_when_idle``, until idle).

    Idle means no send has anything to send now: none in progress, or only retries that are
    not due yet and batches other workers hold (a run ends on those, see engine.py).
    """
    stop = stop or threading.Event()
    provider = pulse.provider()  # a missing credential stops the worker at startup
    try:
        options = send_options(pulse.settings, provider)
        with process_liveness(pulse.db.engine) as liveness:
            while not stop.is_set():
                busy = False
                for issue in sending_issues(pulse):
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
                    log.info("%s: worker sent %d", issue.week_key, report.sent)
                    busy = busy or bool(report.outcome)
                    if on_report is not None:
                        on_report(report)
                if not busy and exit_when_idle:
                    return
                stop.wait(0.2 if busy else poll_seconds)
    finally:
        provider.close()
