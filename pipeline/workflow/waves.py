"""Local-time sending's later waves: a sending issue whose next wave has come is sent on.

The weekly run starts a local-time send when the first zone on Earth reaches the send time
(schedule.py); each run then ends, the issue still ``sending``, once the rows left are all
in waves to come (delivery/waves.py). ``pulse worker`` picks them up as it polls; without a
worker the scheduler's 30-second look starts each wave here, through the same send path and
send lock as any send, so the claim, the lease and the shared rate cap are the same.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select

from pipeline.delivery.engine import SendReport
from pipeline.delivery.send_lock import SendInProgress
from pipeline.delivery.waves import wave_due
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow.weekly import send_week
from pulse_core.database import transaction


def issues_with_wave_due(pulse: Pulse, now: datetime) -> list[Issue]:
    """Sending issues (not paused) with a wave whose instant has come."""
    with transaction(pulse.db.sessions) as session:
        query = (
            select(Issue)
            .where(Issue.status == IssueStatus.SENDING, wave_due(Issue.id, now))
            .order_by(Issue.id)
        )
        return list(session.scalars(query))


def send_due_waves(
    pulse: Pulse, now: datetime, *, stop: threading.Event | None = None
) -> list[SendReport]:
    """Send each due wave; a send another process already runs is left to it."""
    reports = []
    for issue in issues_with_wave_due(pulse, now):
        try:
            reports.append(send_week(pulse, issue.week_key, stop=stop, issue=issue))
        except SendInProgress:
            continue
    return reports
